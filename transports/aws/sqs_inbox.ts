/**
 * The SQS poll loop: long polls, hands messages over, keeps them hidden while they are handled,
 * and deletes only what was handled.
 *
 * @module
 */

import { GetQueueAttributesCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { type Incoming, JSONRPC_ERROR } from "../../session/envelope.ts";
import { BrokerError } from "../../session/errors.ts";
import type { DeliveryHandler, Inbox, InboxDelivery } from "../../session/inbox.ts";
import { consoleLogger, describeError, type Logger } from "../../session/logger.ts";
import type { AwsHttpOptions } from "./aws_http.ts";
import { Batcher } from "./batcher.ts";
import { type SqsCalls, sqsCalls } from "./sqs_calls.ts";
import { decodeQueueMessage } from "./sns_envelope.ts";
import { pause } from "../../session/pause.ts";
import { isWake, sendWakes } from "./sqs_wake.ts";

/** Polling settings shared by every SQS-reading part (servers, client reply channels). */
export interface SqsPollOptions extends AwsHttpOptions {
  /** Seconds a long poll waits for messages (0-20). @default {20} */
  waitTimeSeconds?: number;
  /** Most messages per poll (1-10). @default {10} */
  maxMessages?: number;
  /**
   * Seconds a received message stays hidden from other consumers; extended while it is being
   * handled. @default the queue's own `VisibilityTimeout` (30 when it cannot be read)
   */
  visibilityTimeoutSeconds?: number;
  /**
   * Most long polls running at once on the queue. One always runs; a further one opens while
   * receives come back full (`maxMessages` messages: more are waiting) and closes as soon as one
   * of its receives does not, so an idle or lightly used queue costs one poll and its latency
   * is that of one poll, while a busy queue is read by several at once. @default {4}
   */
  pollers?: number;
  /**
   * How long a deletion may wait for others to travel with it, in ms (a batch of 10 goes at
   * once). Nobody waits for it, but each call reaches the broker: reply queues, whose messages are
   * settled on arrival, wait 50 ms; 0 sends it as soon as the handlers' pending work has run.
   * Keep it well under the visibility timeout. @default {0} (50 on a client's reply queue)
   */
  acknowledgeDelayMs?: number;
}

/** Options for {@linkcode SqsInbox}. */
export interface SqsInboxOptions extends SqsPollOptions {
  /** The SQS client, with the credentials, region and endpoint to use. */
  sqs: SQSClient;
  /** The queue to read. */
  queueUrl: string;
  /**
   * Turns a received message into an envelope.
   * @default {decodeQueueMessage} (message attributes, with SNS envelopes unwrapped)
   */
  decode?: (message: Message) => Incoming;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
  /** Called with each failed SQS call (the loop itself keeps going, with back-off). */
  onerror?: (error: BrokerError) => void;
  /**
   * `close()` ends the long polls by sending the queue wake messages (needs `sqs:SendMessage` on
   * it) instead of abandoning them: a broker hands the next message to an abandoned long poll
   * and hides it for the visibility timeout. Without the permission, or when no wake arrives
   * within a second, the polls are abandoned. @default {false}
   */
  wakeOnClose?: boolean;
}

/** What {@linkcode SqsInbox.status} reports. */
export interface SqsInboxStatus {
  /** Whether the inbox is started and not closed. */
  running: boolean;
  /** Received messages not yet acknowledged, released or rejected. */
  unsettled: number;
  /** Long polls running now: 1 while receives come back short, up to `pollers` while full. */
  pollers: number;
}

interface QueueFacts {
  visibilityTimeoutSeconds: number;
  hasRedrivePolicy: boolean;
  fifo: boolean;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 20_000;
const AUTH_BACKOFF_MS = 10_000;
const SETTLE_ATTEMPTS = 3;
/** The default most long polls per queue (`pollers`). */
const DEFAULT_MAX_POLLERS = 4;
/** How long close() waits for its wake messages to end the long polls before abandoning them. */
const WAKE_WAIT_MS = 1000;

/**
 * Reads an SQS queue for a session host or a reply router. Deliveries stay hidden (their
 * visibility is extended every third of the timeout) until settled: `ack` deletes (batched),
 * `release` makes the message visible again at once, `reject` leaves it to the queue's redrive
 * policy or deletes it when there is none.
 *
 * @example Read a queue
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { SqsInbox } from "@asyncmcp/asyncmcp/sqs";
 *
 * const inbox = new SqsInbox({ sqs: new SQSClient({}), queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q" });
 * await inbox.start((deliveries) => {
 *   for (const delivery of deliveries) delivery.ack();
 * });
 * await inbox.close();
 * ```
 */
export class SqsInbox implements Inbox {
  #options: SqsInboxOptions;
  #logger: Logger;
  #waitTimeSeconds: number;
  #maxMessages: number;
  #maxPollers: number;
  #decode: (message: Message) => Incoming;
  #facts: QueueFacts = { visibilityTimeoutSeconds: 30, hasRedrivePolicy: false, fifo: false };
  #handler?: DeliveryHandler;
  #abort = new AbortController();
  /** The poll loops running; one while receives come back short, more while they are full. */
  #loops = new Set<Promise<void>>();
  /** Loops that have not decided to end: counted synchronously, unlike `#loops`. */
  #polling = 0;
  /** Receive calls under way (each one takes a wake message when closing). */
  #receiving = 0;
  #unsettled = new Set<SqsDelivery>();
  #heartbeat?: ReturnType<typeof setInterval>;
  #started = false;
  #stopped?: Promise<void>;
  /** Set by close() with wakeOnClose: the polls end once they return, handing back what they got. */
  #finishing = false;
  #closed?: Promise<void>;
  #deletes: Batcher<string>;
  #visibility: Batcher<{ handle: string; seconds: number }>;
  #calls: SqsCalls;

  /** Validates the options; nothing is received until {@linkcode SqsInbox.start}. */
  constructor(options: SqsInboxOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger();
    this.#waitTimeSeconds = inRange("waitTimeSeconds", options.waitTimeSeconds ?? 20, 0, 20);
    this.#maxMessages = inRange("maxMessages", options.maxMessages ?? 10, 1, 10);
    this.#maxPollers = inRange("pollers", options.pollers ?? DEFAULT_MAX_POLLERS, 1, 100);
    const acknowledgeDelayMs = inRange(
      "acknowledgeDelayMs",
      options.acknowledgeDelayMs ?? 0,
      0,
      10_000,
    );
    if (options.visibilityTimeoutSeconds !== undefined) {
      inRange("visibilityTimeoutSeconds", options.visibilityTimeoutSeconds, 1, 43_200);
    }
    this.#decode = options.decode ?? decodeQueueMessage;
    const { queueUrl } = options;
    const calls = this.#calls = sqsCalls(options.sqs, options.awsHttp);
    // One call at a time: acknowledgements wait for nobody, so they may as well travel together;
    // full batches in parallel, or under load the backlog (messages whose deletion is late, and
    // which come back once their visibility timeout ends) would grow behind one call at a time.
    this.#deletes = new Batcher({
      maxItems: 10,
      maxConcurrent: 1,
      maxConcurrentFull: 4,
      flushAfter: acknowledgeDelayMs > 0 ? acknowledgeDelayMs : "macrotask",
      run: (handles) =>
        this.#batchCall(
          "SQS DeleteMessageBatch",
          handles,
          (entries) => calls.deleteMessageBatch({ QueueUrl: queueUrl, Entries: entries }),
        ),
    });
    this.#visibility = new Batcher({
      maxItems: 10,
      maxConcurrent: 2,
      flushAfter: "macrotask",
      run: (changes) =>
        this.#batchCall(
          "SQS ChangeMessageVisibilityBatch",
          changes.map((change) => change.handle),
          (entries) =>
            calls.changeMessageVisibilityBatch({
              QueueUrl: queueUrl,
              Entries: entries.map((entry, index) => ({
                ...entry,
                VisibilityTimeout: changes[index].seconds,
              })),
            }),
        ),
    });
  }

  /** True for FIFO queues, whose message groups wait while a message is in flight. */
  get acksOnReceipt(): boolean {
    return this.#facts.fifo;
  }

  /** Whether the inbox is polling, and how much it holds. */
  get status(): SqsInboxStatus {
    return {
      running: this.#started && !this.#closed,
      unsettled: this.#unsettled.size,
      pollers: this.#polling,
    };
  }

  /** Reads the queue's settings once, then starts the poll loops. Throws when called twice. */
  async start(handler: DeliveryHandler): Promise<void> {
    if (this.#started) {
      throw new Error("Cannot start SQS inbox as it is already started: call start() once");
    }
    if (this.#stopped) {
      throw new Error("Cannot start SQS inbox as it is closed: create a new one");
    }
    this.#started = true;
    this.#handler = handler;
    this.#facts = await this.#readQueueFacts();
    // close() may have run while the queue's settings were being read.
    if (this.#stopped) return;
    // Every third of the timeout, however short: a message is extended before it can show again.
    const everyMs = this.#facts.visibilityTimeoutSeconds * 1000 / 3;
    this.#heartbeat = setInterval(() => this.#extendVisibility(everyMs), everyMs);
    this.#openPoller();
  }

  /** Ends the long polls at once; received messages can still be settled. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#abort.abort();
      await Promise.all(this.#loops);
    })();
    return this.#stopped;
  }

  /** Stops polling, releases every unsettled message and flushes acknowledgements. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#options.wakeOnClose) await this.#wakePolls();
      await this.stop();
      for (const delivery of [...this.#unsettled]) delivery.release();
      clearInterval(this.#heartbeat);
      // Deletions waiting for company go now, and later ones (late settlements) at once.
      this.#deletes.hurry();
      await Promise.all([this.#deletes.idle(), this.#visibility.idle()]);
    })();
    return this.#closed;
  }

  /** Ends the long polls by waking them; they return what else they received to the queue. */
  async #wakePolls(): Promise<void> {
    if (this.#loops.size === 0 || this.#stopped) return;
    this.#finishing = true;
    try {
      // One wake per receive under way: a loop between two receives sees `#finishing` before its
      // next one, and a wake nobody takes would be the next reader's first message.
      if (this.#receiving > 0) {
        await sendWakes(this.#options.sqs, this.#options.queueUrl, this.#receiving);
      }
    } catch (error) {
      this.#logger.log("info", "sqs.wake_failed", {
        queueUrl: this.#options.queueUrl,
        error: describeError(error),
      });
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.#loops),
      new Promise((resolve) => timer = setTimeout(resolve, WAKE_WAIT_MS)),
    ]);
    clearTimeout(timer);
  }

  /** Starts one more poll loop, which removes itself from `#loops` when it ends. */
  #openPoller(): void {
    this.#polling++;
    const loop: Promise<void> = this.#poll(this.#abort.signal).finally(() =>
      this.#loops.delete(loop)
    );
    this.#loops.add(loop);
  }

  /**
   * One long poll after another. A full receive opens another loop (up to `pollers`); a short
   * receive, or a failed one, ends this loop unless it is the last: the number of polls follows
   * the backlog, with no timer involved.
   */
  async #poll(signal: AbortSignal): Promise<void> {
    let failures = 0;
    // The count drops in `finally`, in the same tick as the decision to end: two loops that
    // both receive short never both leave.
    try {
      while (!signal.aborted && !this.#finishing) {
        let full: boolean;
        try {
          full = await this.#receiveOnce(signal);
          failures = 0;
        } catch (error) {
          if (signal.aborted || this.#finishing) return;
          failures++;
          const brokerError = BrokerError.from(error, {
            operation: "SQS ReceiveMessage",
            address: this.#options.queueUrl,
          });
          // Extra polls only multiply failing calls: the last one keeps trying, with back-off.
          const last = this.#polling === 1;
          const waitMs = backoffMs(failures, brokerError);
          this.#logger.log("error", "sqs.receive_failed", {
            queueUrl: this.#options.queueUrl,
            error: brokerError.message,
            failures,
            ...(last ? { retryInMs: Math.round(waitMs) } : { pollEnded: true }),
          });
          this.#options.onerror?.(brokerError);
          if (!last) return;
          await pause(waitMs, signal);
          continue;
        }
        if (signal.aborted || this.#finishing) return;
        if (full && this.#polling < this.#maxPollers) this.#openPoller();
        else if (!full && this.#polling > 1) return;
      }
    } finally {
      this.#polling--;
    }
  }

  /** One long poll, its messages handed over; true when it came back full. */
  async #receiveOnce(signal: AbortSignal): Promise<boolean> {
    this.#receiving++;
    let received;
    try {
      received = await this.#calls.receiveMessage({
        QueueUrl: this.#options.queueUrl,
        MaxNumberOfMessages: this.#maxMessages,
        WaitTimeSeconds: this.#waitTimeSeconds,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        VisibilityTimeout: this.#options.visibilityTimeoutSeconds,
      }, signal);
    } finally {
      this.#receiving--;
    }
    const all = received.Messages ?? [];
    const messages = this.#withoutWakes(all);
    if (signal.aborted || this.#finishing) {
      // Received just as we closed: hand them straight back.
      for (const message of messages) {
        if (message.ReceiptHandle) {
          this.#visibility.add({ handle: message.ReceiptHandle, seconds: 0 }).catch(() => {});
        }
      }
      return false;
    }
    if (messages.length > 0) {
      this.#deliver(messages);
      // Let the handlers run to their first I/O before building the next poll request:
      // a yield, not a wait, and it takes the poll's CPU off the answer's critical path.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return all.length >= this.#maxMessages;
  }

  /** Deletes wake messages (this inbox's or another's on the same queue) and drops them. */
  #withoutWakes(messages: Message[]): Message[] {
    return messages.filter((message) => {
      if (!isWake(message)) return true;
      if (message.ReceiptHandle) this.#deletes.add(message.ReceiptHandle).catch(() => {});
      return false;
    });
  }

  #deliver(messages: Message[]): void {
    const deliveries: InboxDelivery[] = [];
    for (const message of messages) {
      if (!message.ReceiptHandle) continue;
      const delivery = new SqsDelivery(
        message,
        this.#safeDecode(message),
        (settled, how, delaySeconds) => this.#settle(settled, how, delaySeconds),
      );
      this.#unsettled.add(delivery);
      deliveries.push(delivery);
    }
    try {
      this.#handler!(deliveries);
    } catch (error) {
      // A handler must not throw; if it does, the messages return to the queue for another try.
      this.#logger.log("error", "sqs.handler_threw", { error: String(error) });
      for (const delivery of deliveries) delivery.release();
    }
  }

  #safeDecode(message: Message): Incoming {
    try {
      return this.#decode(message);
    } catch (error) {
      // A throwing custom decoder must not strand the rest of the batch unsettled.
      return {
        ok: false,
        invalid: {
          error: {
            code: JSONRPC_ERROR.PARSE_ERROR,
            message: `Parse error: the message could not be decoded (${String(error)})`,
          },
          id: null,
        },
      };
    }
  }

  #settle(delivery: SqsDelivery, how: Settlement, delaySeconds = 0): void {
    this.#unsettled.delete(delivery);
    const handle = delivery.receiptHandle;
    const onError = (error: Error) => this.#reportSettleFailure(delivery, how, error);
    if (how === "ack" || (how === "reject" && !this.#facts.hasRedrivePolicy)) {
      this.#deletes.add(handle).catch(onError);
    } else if (how === "release") {
      const seconds = Math.max(0, Math.min(43_200, Math.round(delaySeconds)));
      this.#visibility.add({ handle, seconds }).catch(onError);
    }
    // A rejected message on a queue with a redrive policy is left alone: it reappears after its
    // visibility timeout and the policy moves it to the dead-letter queue after maxReceiveCount.
  }

  #extendVisibility(everyMs: number): void {
    const seconds = this.#options.visibilityTimeoutSeconds ?? this.#facts.visibilityTimeoutSeconds;
    const now = Date.now();
    for (const delivery of this.#unsettled) {
      if (now - delivery.hiddenSince < everyMs * 0.9) continue;
      delivery.hiddenSince = now;
      this.#visibility.add({ handle: delivery.receiptHandle, seconds }).catch((error) =>
        this.#reportSettleFailure(delivery, "extend", error)
      );
    }
  }

  #reportSettleFailure(delivery: SqsDelivery, action: string, error: Error): void {
    this.#logger.log("error", "sqs.settle_failed", {
      queueUrl: this.#options.queueUrl,
      messageId: delivery.messageId,
      action,
      error: error.message,
    });
    if (error instanceof BrokerError) this.#options.onerror?.(error);
  }

  async #batchCall(
    operation: string,
    handles: string[],
    call: (
      entries: Array<{ Id: string; ReceiptHandle: string }>,
    ) => Promise<{ Failed?: Array<{ Id?: string; Code?: string; Message?: string }> }>,
  ): Promise<Array<Error | undefined>> {
    const entries = handles.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle }));
    const address = this.#options.queueUrl;
    let result;
    for (let attempt = 1;; attempt++) {
      try {
        result = await call(entries);
        break;
      } catch (error) {
        const failure = BrokerError.from(error, { operation, address });
        // A lost acknowledgement means the message runs again elsewhere: worth a few retries.
        if (!failure.retryable || attempt >= SETTLE_ATTEMPTS) throw failure;
        await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt, failure)));
      }
    }
    return BrokerError.perEntry(handles.length, result.Failed, { operation, address });
  }

  async #readQueueFacts(): Promise<QueueFacts> {
    const fifo = this.#options.queueUrl.endsWith(".fifo");
    try {
      const { Attributes = {} } = await this.#options.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#options.queueUrl,
          AttributeNames: ["VisibilityTimeout", "RedrivePolicy", "FifoQueue"],
        }),
      );
      return {
        visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds ??
          (Number(Attributes.VisibilityTimeout) || 30),
        hasRedrivePolicy: Boolean(Attributes.RedrivePolicy),
        fifo: Attributes.FifoQueue === "true" || fifo,
      };
    } catch (error) {
      const brokerError = BrokerError.from(error, {
        operation: "SQS GetQueueAttributes",
        address: this.#options.queueUrl,
      });
      if (
        brokerError.code === "AWS.SimpleQueueService.NonExistentQueue" ||
        brokerError.code === "QueueDoesNotExist"
      ) {
        throw brokerError;
      }
      // Without permission to read attributes, assume the defaults and keep going.
      this.#logger.log("warn", "sqs.queue_attributes_unreadable", {
        queueUrl: this.#options.queueUrl,
        error: brokerError.message,
      });
      return {
        visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds ?? 30,
        hasRedrivePolicy: false,
        fifo,
      };
    }
  }
}

type Settlement = "ack" | "release" | "reject";
type OnSettle = (delivery: SqsDelivery, how: Settlement, delaySeconds?: number) => void;

/** One received SQS message; settles at most once. */
class SqsDelivery implements InboxDelivery {
  readonly incoming: Incoming;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly receiptHandle: string;
  readonly sentAt?: number;
  hiddenSince: number = Date.now();
  #onSettle: OnSettle;
  #settled = false;

  constructor(message: Message, incoming: Incoming, onSettle: OnSettle) {
    this.#onSettle = onSettle;
    this.incoming = incoming;
    this.messageId = message.MessageId ?? "";
    this.receiptHandle = message.ReceiptHandle!;
    this.receiveCount = Number(message.Attributes?.ApproximateReceiveCount) || 1;
    const sentAt = Number(message.Attributes?.SentTimestamp);
    if (Number.isFinite(sentAt) && sentAt > 0) this.sentAt = sentAt;
  }

  ack(): void {
    this.#settle("ack");
  }

  release(delaySeconds?: number): void {
    this.#settle("release", delaySeconds);
  }

  reject(): void {
    this.#settle("reject");
  }

  #settle(how: Settlement, delaySeconds?: number): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#onSettle(this, how, delaySeconds);
  }
}

function backoffMs(failures: number, error: BrokerError): number {
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  const base = error.status === 401 || error.status === 403
    ? Math.max(AUTH_BACKOFF_MS, exponential)
    : exponential;
  return base / 2 + Math.random() * base / 2;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create SQS inbox as '${name}' must be an integer from ${min} to ${max}: current value is ${value}`,
    );
  }
  return value;
}
