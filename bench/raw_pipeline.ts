/**
 * The raw pipeline: exactly the broker work of a tools/call in a session, without MCP. A client
 * half sends the request a v1 client sends (the same body and attributes, through the same
 * batching outbox over `fetch`) and waits for its answer; a server half, in its own process,
 * answers each request with the body and attributes the server sends, and deletes it. Both read
 * with a fixed number of long polls per queue. Its rate under load is the ceiling that the broker
 * and the machine allow; the benchmark shows the real figure beside it.
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { Envelope } from "../session/envelope.ts";
import type { Outbox } from "../session/outbox.ts";
import { sqsCalls } from "../transports/aws/sqs_calls.ts";
import { SnsOutbox } from "../transports/sns_sqs/sns_outbox.ts";
import { SqsOutbox } from "../transports/sqs/sqs_outbox.ts";

/** The session every raw message names: 32 hex digits, like the server's ids. */
const SESSION_ID = "6f1c0c5a0a0b4b43a4b8c1f1f3f0f9aa";
const PROTOCOL_VERSION = "2025-11-25";

/** Where a half of the pipeline reads and sends. */
export interface RawHalfOptions {
  sqs: SQSClient;
  /** Needed when `sendTo` is an SNS topic ARN. */
  sns?: SNSClient;
  /** The queue this half reads. */
  queueUrl: string;
  /** Where this half sends: a queue URL, or a topic ARN (then published). */
  sendTo: string;
  /** Long polls on `queueUrl`, all running all the time. */
  polls: number;
}

/**
 * The request of one `tools/call echo` in a session, as the v1 client sends it.
 *
 * @example
 * ```ts
 * import { rawRequest } from "./raw_pipeline.ts";
 *
 * console.log(rawRequest(1, "client-1").message);
 * ```
 */
export function rawRequest(id: number, clientId: string): Envelope {
  return {
    message: {
      method: "tools/call",
      params: { name: "echo", arguments: { text: "load" } },
      jsonrpc: "2.0",
      id,
    },
    sessionId: SESSION_ID,
    clientId,
    protocolVersion: PROTOCOL_VERSION,
  };
}

/**
 * The answer to {@linkcode rawRequest} `id`, as the server sends it.
 *
 * @example
 * ```ts
 * import { rawAnswer } from "./raw_pipeline.ts";
 *
 * console.log(rawAnswer(1, "client-1").message);
 * ```
 */
export function rawAnswer(id: number, clientId: string): Envelope {
  return {
    message: { result: { content: [{ type: "text", text: "load" }] }, jsonrpc: "2.0", id },
    sessionId: SESSION_ID,
    clientId,
    protocolVersion: PROTOCOL_VERSION,
  };
}

/** One half: its outbox, and long polls that hand each batch to `onBatch` and then delete it. */
class RawHalf {
  readonly outbox: Outbox;
  #options: RawHalfOptions;
  #abort = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(options: RawHalfOptions) {
    this.#options = options;
    this.outbox = options.sendTo.startsWith("arn:")
      ? new SnsOutbox({ sns: options.sns! })
      : new SqsOutbox({ sqs: options.sqs });
  }

  start(onBatch: (messages: Message[]) => Promise<unknown>): void {
    for (let i = 0; i < this.#options.polls; i++) this.#loops.push(this.#poll(onBatch));
  }

  async #poll(onBatch: (messages: Message[]) => Promise<unknown>): Promise<void> {
    const calls = sqsCalls(this.#options.sqs);
    const { queueUrl } = this.#options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const { Messages = [] } = await calls.receiveMessage({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 20,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }, signal);
        if (Messages.length === 0) continue;
        onBatch(Messages).then(() =>
          calls.deleteMessageBatch({
            QueueUrl: queueUrl,
            Entries: Messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle!,
            })),
          })
        ).catch((error) => console.error("raw pipeline:", error));
      } catch (error) {
        if (!signal.aborted) console.error("raw pipeline receive:", error);
      }
    }
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
    await this.outbox.close();
  }
}

/** The id and client id of a raw message. */
function routingOf(message: Message): { id: number; clientId: string } {
  return {
    id: JSON.parse(message.Body!).id,
    clientId: message.MessageAttributes?.ClientId?.StringValue ?? "",
  };
}

/**
 * Starts the server half: answers every request on `queueUrl` at `sendTo`, then deletes it.
 *
 * @example
 * ```ts ignore
 * const server = serveRawPipeline({ sqs, queueUrl: requests, sendTo: replies, polls: 2 });
 * await server.close();
 * ```
 */
export function serveRawPipeline(options: RawHalfOptions): { close(): Promise<void> } {
  const half = new RawHalf(options);
  half.start((messages) =>
    Promise.all(messages.map((message) => {
      const { id, clientId } = routingOf(message);
      return half.outbox.send(options.sendTo, rawAnswer(id, clientId));
    }))
  );
  return half;
}

/**
 * The client half: `call()` sends one request and resolves when its answer has arrived.
 *
 * @example
 * ```ts ignore
 * const client = new RawPipelineClient({ sqs, queueUrl: replies, sendTo: requests, polls: 2 });
 * client.start();
 * await client.call();
 * await client.close();
 * ```
 */
export class RawPipelineClient {
  #half: RawHalf;
  #sendTo: string;
  #waiting = new Map<number, () => void>();
  #nextId = 1;
  #clientId = `raw-${crypto.randomUUID().slice(0, 8)}`;

  /** Reads `queueUrl` for answers, sends requests to `sendTo`. */
  constructor(options: RawHalfOptions) {
    this.#half = new RawHalf(options);
    this.#sendTo = options.sendTo;
  }

  /** Starts the long polls. */
  start(): void {
    this.#half.start((messages) => {
      for (const message of messages) {
        const { id } = routingOf(message);
        this.#waiting.get(id)?.();
        this.#waiting.delete(id);
      }
      return Promise.resolve();
    });
  }

  /** One request and its answer. */
  async call(): Promise<void> {
    const id = this.#nextId++;
    const answered = new Promise<void>((resolve) => this.#waiting.set(id, resolve));
    await this.#half.outbox.send(this.#sendTo, rawRequest(id, this.#clientId));
    await answered;
  }

  /** Ends the long polls. */
  close(): Promise<void> {
    return this.#half.close();
  }
}
