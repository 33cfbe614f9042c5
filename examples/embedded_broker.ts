/**
 * A broker to run against: the embedded `fauxqs` SQS/SNS emulator on 127.0.0.1; the endpoint
 * named by `AWS_ENDPOINT_URL` (LocalStack) when that is set; real AWS with `ASYNCMCP_BROKER=aws`.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SNSClient } from "@aws-sdk/client-sns";

/** A running broker and clients configured for it. */
export interface Broker {
  /** The endpoint URL the clients talk to. */
  endpoint: string;
  /** Whether this process started the broker (false for `AWS_ENDPOINT_URL`). */
  embedded: boolean;
  /** The region the clients use. */
  region: string;
  /** Builds an SQS client for this broker. */
  sqsClient(): SQSClient;
  /** Builds an SNS client for this broker. */
  snsClient(): SNSClient;
  /** Creates a queue (or returns the existing one) and returns its URL and ARN. */
  createQueue(
    sqs: SQSClient,
    name: string,
    attributes?: Record<string, string>,
  ): Promise<{ url: string; arn: string }>;
  /** Stops the embedded broker; a no-op for an external endpoint. */
  close(): Promise<void>;
}

/** Options for {@linkcode startBroker}. */
export interface StartBrokerOptions {
  /**
   * Run the embedded broker in a child process instead of this one: its work then runs on
   * another core, as a real broker would, and its timers cannot trip the test sanitizers.
   * @default {false}
   */
  childProcess?: boolean;
}

/**
 * Starts the embedded broker, or connects to `AWS_ENDPOINT_URL` when it is set, or to real AWS
 * when `ASYNCMCP_BROKER=aws` (credentials and region then come from the usual AWS environment).
 *
 * @example
 * ```ts ignore
 * const broker = await startBroker();
 * const sqs = broker.sqsClient();
 * const queue = await broker.createQueue(sqs, "requests");
 * sqs.destroy();
 * await broker.close();
 * ```
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  // ASYNCMCP_BROKER=aws: real AWS with the SDK's own endpoints (one URL cannot serve SQS and SNS).
  const realAws = Deno.env.get("ASYNCMCP_BROKER") === "aws";
  const external = realAws ? "aws" : Deno.env.get("AWS_ENDPOINT_URL");
  const region = Deno.env.get("AWS_REGION") ?? Deno.env.get("AWS_DEFAULT_REGION") ?? "us-east-1";
  let endpoint: string;
  let stop: () => Promise<void>;
  let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  if (external) {
    endpoint = realAws ? external : await resolvedEndpoint(external);
    stop = () => Promise.resolve();
  } else {
    const started = options.childProcess ? await startChildBroker() : await startInProcessBroker();
    endpoint = `http://127.0.0.1:${started.port}`;
    stop = started.stop;
    credentials = { accessKeyId: "test", secretAccessKey: "test" };
  }
  const config = {
    region,
    ...(realAws ? {} : { endpoint }),
    ...(credentials ? { credentials } : {}),
  };
  return {
    endpoint,
    embedded: !external,
    region,
    sqsClient: () => new SQSClient(config),
    snsClient: () => new SNSClient(config),
    async createQueue(sqs, name, attributes) {
      const fifo = name.endsWith(".fifo");
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: { ...(fifo ? { FifoQueue: "true" } : {}), ...attributes },
        }),
      );
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
      );
      return { url: QueueUrl!, arn: Attributes!.QueueArn! };
    },
    close: stop,
  };
}

/**
 * `http://localhost:4566` as `http://127.0.0.1:4566`: looked up once here rather than by Deno's
 * `node:http` for every new connection, whose lookup outlives a request aborted meanwhile (a long
 * poll that `close()` ends) and so trips the test sanitizers. Only plain HTTP: names matter to TLS.
 */
async function resolvedEndpoint(endpoint: string): Promise<string> {
  const url = new URL(endpoint);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "http:" || isIP(hostname) !== 0) return endpoint;
  const { address, family } = await lookup(hostname);
  url.hostname = family === 6 ? `[${address}]` : address;
  return url.href.replace(/\/$/, "");
}

async function startInProcessBroker(): Promise<{ port: number; stop: () => Promise<void> }> {
  // Loaded on first use: runs against AWS_ENDPOINT_URL never load the broker package.
  const { listenFauxqs } = await import("./loopback_fauxqs.ts");
  return await listenFauxqs();
}

async function startChildBroker(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("./fauxqs_main.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start embedded broker: its process ended before it listened");
    text += value;
  }
  const { port } = JSON.parse(text.slice(0, text.indexOf("\n")));
  return {
    port,
    async stop() {
      await child.stdin.close();
      await reader.cancel();
      await child.status;
    },
  };
}
