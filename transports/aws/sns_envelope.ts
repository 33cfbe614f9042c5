/**
 * Reading messages from an SQS queue that may be subscribed to an SNS topic: with raw message
 * delivery the body is the message itself, otherwise SNS wraps it in a JSON envelope.
 *
 * @module
 */

import type { Message } from "@aws-sdk/client-sqs";
import {
  decodeAttributes,
  decodeParsed,
  type MessageAttribute,
  routingOfAttributes,
} from "../../session/envelope_codec.ts";
import { type Incoming, JSONRPC_ERROR } from "../../session/envelope.ts";

/**
 * Decodes a received SQS message, unwrapping SNS's JSON envelope (`{"Type": "Notification",
 * "Message": ..., "MessageAttributes": {...}}`) when there is one. Attributes of the SQS message
 * itself win over envelope attributes of the same name (README: Wire format). Every SQS-reading part of
 * asyncmcp uses it, so any queue may be fed by SNS, raw or not.
 *
 * @example Decode an SNS envelope
 * ```ts
 * import { decodeQueueMessage } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * const incoming = decodeQueueMessage({
 *   Body: JSON.stringify({
 *     Type: "Notification",
 *     Message: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
 *     MessageAttributes: { SessionId: { Type: "String", Value: "abc" } },
 *   }),
 * });
 * if (incoming.ok) console.log(incoming.envelope.sessionId); // "abc"
 * ```
 */
export function decodeQueueMessage(message: Pick<Message, "Body" | "MessageAttributes">): Incoming {
  const body = message.Body ?? "";
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    // Let the codec produce the parse error, with the routing facts it can still read.
    return decodeAttributes(body, message.MessageAttributes);
  }
  if (!isSnsNotification(value)) return decodeParsed(value, message.MessageAttributes);
  const attributes: Record<string, MessageAttribute> = {};
  for (const [name, attribute] of Object.entries(value.MessageAttributes ?? {})) {
    if (typeof attribute?.Value === "string") {
      attributes[name] = { DataType: attribute.Type ?? "String", StringValue: attribute.Value };
    }
  }
  Object.assign(attributes, message.MessageAttributes);
  if (typeof value.Message !== "string") {
    return {
      ok: false,
      invalid: {
        // Still routed by its attributes, so that its sender's session can be told.
        ...routingOfAttributes(attributes),
        error: {
          code: JSONRPC_ERROR.PARSE_ERROR,
          message: "Parse error: the SNS envelope's Message is not a string; publish the " +
            "JSON-RPC message as text",
        },
        id: null,
      },
    };
  }
  return decodeAttributes(value.Message, attributes);
}

interface SnsNotification {
  Type: "Notification";
  Message?: unknown;
  MessageAttributes?: Record<string, { Type?: string; Value?: unknown } | undefined>;
}

function isSnsNotification(value: unknown): value is SnsNotification {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    (value as { Type?: unknown }).Type === "Notification" && "Message" in value &&
    !("jsonrpc" in value);
}
