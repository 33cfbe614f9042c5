/**
 * SNS `Publish` and `PublishBatch` over the lean `fetch` path (the Query protocol: a form body
 * out, XML back, of which only the fields asyncmcp needs are read) or through the SDK client.
 *
 * @module
 */

import {
  PublishBatchCommand,
  type PublishBatchInput,
  type PublishBatchResponse,
  PublishCommand,
  type PublishInput,
  type PublishResponse,
  type SNSClient,
} from "@aws-sdk/client-sns";
import { AwsFetchClient, AwsServiceError } from "./aws_fetch.ts";
import { type AwsHttp, callsFor } from "./aws_http.ts";

/**
 * The SNS calls that run for every message. Inputs have the SDK's shapes; results carry the
 * message ids and, for batches, the `Successful` and `Failed` entries. On the fetch path binary
 * message attributes are not supported (asyncmcp sends none).
 *
 * @example
 * ```ts ignore
 * const calls: SnsCalls = snsCalls(sns, "fetch");
 * const { Failed = [] } = await calls.publishBatch({ TopicArn: topicArn, PublishBatchRequestEntries: entries });
 * ```
 */
export interface SnsCalls {
  /** `Publish`. */
  publish(input: PublishInput): Promise<PublishResponse>;
  /** `PublishBatch`. */
  publishBatch(input: PublishBatchInput): Promise<PublishBatchResponse>;
}

const cache = new WeakMap<SNSClient, Partial<Record<AwsHttp, SnsCalls>>>();

/**
 * The hot SNS calls for `sns`, over `fetch` (SigV4-signed Query protocol, configured from the
 * client) or through `sns.send()`; by default `ASYNCMCP_AWS_HTTP`, else fetch.
 *
 * @example Publish over the fetch path
 * ```ts ignore
 * import { SNSClient } from "@aws-sdk/client-sns";
 * import { snsCalls } from "./sns_calls.ts";
 *
 * await snsCalls(new SNSClient({}), "fetch").publish({
 *   TopicArn: "arn:aws:sns:us-east-1:123456789012:mcp-requests",
 *   Message: "{}",
 * });
 * ```
 */
export function snsCalls(sns: SNSClient, awsHttp?: AwsHttp): SnsCalls {
  return callsFor(cache, sns, awsHttp, { fetch: fetchCalls, sdk: sdkCalls });
}

function sdkCalls(sns: SNSClient): SnsCalls {
  return {
    publish: (input) => sns.send(new PublishCommand(input)),
    publishBatch: (input) => sns.send(new PublishBatchCommand(input)),
  };
}

function fetchCalls(sns: SNSClient): SnsCalls {
  const client = new AwsFetchClient(sns, { service: "sns", parseError: parseXmlError });
  const call = (action: string, input: object): Promise<string> =>
    client.post(
      `Action=${action}&Version=2010-03-31${formFields("", input)}`,
      { "content-type": "application/x-www-form-urlencoded" },
    );
  return {
    async publish(input) {
      return { MessageId: text(await call("Publish", input), "MessageId") };
    },
    async publishBatch(input) {
      const xml = await call("PublishBatch", input);
      return {
        Successful: members(xml, "Successful").map((member) => ({
          Id: text(member, "Id"),
          MessageId: text(member, "MessageId"),
        })),
        Failed: members(xml, "Failed").map((member) => ({
          Id: text(member, "Id"),
          Code: text(member, "Code"),
          Message: text(member, "Message"),
          SenderFault: text(member, "SenderFault") === "true",
        })),
      };
    },
  };
}

/**
 * Query-protocol form fields for an input: lists as `.member.N`, the `MessageAttributes` map as
 * `.entry.N.Name` / `.entry.N.Value`, structures by member name; each pair led by `&`.
 */
function formFields(prefix: string, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "object") return `&${encode(prefix)}=${encode(String(value))}`;
  let fields = "";
  if (Array.isArray(value)) {
    value.forEach((item, index) => fields += formFields(`${prefix}.member.${index + 1}`, item));
    return fields;
  }
  let entry = 0;
  for (const [name, member] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (name !== "MessageAttributes" || typeof member !== "object" || member === null) {
      fields += formFields(key, member);
      continue;
    }
    for (const [attribute, attributeValue] of Object.entries(member)) {
      entry++;
      fields += formFields(`${key}.entry.${entry}.Name`, attribute) +
        formFields(`${key}.entry.${entry}.Value`, attributeValue);
    }
    entry = 0;
  }
  return fields;
}

/** The SDK's encoding of query fields: `encodeURIComponent` plus `! ' ( ) *`. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function parseXmlError(status: number, headers: Headers, body: string): AwsServiceError {
  const code = text(body, "Code") ?? (status === 429 ? "Throttling" : "UnknownError");
  const type = text(body, "Type");
  return new AwsServiceError(text(body, "Message") ?? `HTTP ${status}`, {
    name: code,
    status,
    requestId: text(body, "RequestId") ?? headers.get("x-amzn-requestid") ?? undefined,
    fault: type === "Sender" || (type === undefined && status < 500) ? "client" : "server",
  });
}

const elementPatterns = new Map<string, RegExp>();

/** The contents of each `<name>` element (elements of one name are not nested in SNS answers). */
function elements(xml: string, name: string): string[] {
  let pattern = elementPatterns.get(name);
  if (!pattern) {
    elementPatterns.set(
      name,
      pattern = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, "g"),
    );
  }
  return [...xml.matchAll(pattern)].map((match) => match[1]);
}

/** The `<member>`s of the first `<list>` element. */
function members(xml: string, list: string): string[] {
  const [inner] = elements(xml, list);
  return inner === undefined ? [] : elements(inner, "member");
}

/** The text of the first `<name>` element, entities decoded. */
function text(xml: string, name: string): string | undefined {
  const [inner] = elements(xml, name);
  return inner === undefined ? undefined : decodeEntities(inner.trim());
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity[0] !== "#") return NAMED_ENTITIES[entity] ?? whole;
    const code = entity[1] === "x" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return String.fromCodePoint(code);
  });
}
