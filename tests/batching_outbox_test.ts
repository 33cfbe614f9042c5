/**
 * The batch calls the AWS outboxes make, as the broker receives them: entries per call and bytes
 * per call stay within the service's limits however many messages are sent at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Envelope } from "../session/envelope.ts";
import type { Outbox } from "../session/outbox.ts";
import { ensureTopic, SNS_MAX_MESSAGE_BYTES, SnsOutbox } from "../transports/sns_sqs/mod.ts";
import { SQS_MAX_MESSAGE_BYTES, SqsOutbox } from "../transports/sqs/mod.ts";
import { type BrokerContext, withBroker } from "./_fixture.ts";
import { messagesOn, recordCalls, type RecordedCall } from "./_raw_sqs.ts";

/** One AWS outbox under test, on its own recorded client. */
interface Subject {
  name: string;
  /** The service's limit for one batch call, in bytes. */
  limitBytes: number;
  /** The batch command and the field that holds its entries. */
  batch: { command: string; entries: string };
  open(context: BrokerContext): Promise<{
    outbox: Outbox;
    address: string;
    calls: RecordedCall[];
    /** How many messages the destination holds, where that can be read. */
    held?: () => Promise<number>;
  }>;
}

const subjects: Subject[] = [
  {
    name: "SqsOutbox",
    limitBytes: SQS_MAX_MESSAGE_BYTES,
    batch: { command: "SendMessageBatchCommand", entries: "Entries" },
    async open(context) {
      const sqs = context.broker.sqsClient();
      context.cleanup(() => sqs.destroy());
      const queue = await context.queue("outbox");
      return {
        // The SDK path, so that the recorder sees the calls (batching is the same on both).
        outbox: new SqsOutbox({ sqs, awsHttp: "sdk" }),
        address: queue.url,
        calls: recordCalls(sqs),
        held: () => messagesOn(context.sqs, queue.url),
      };
    },
  },
  {
    name: "SnsOutbox",
    limitBytes: SNS_MAX_MESSAGE_BYTES,
    batch: { command: "PublishBatchCommand", entries: "PublishBatchRequestEntries" },
    async open(context) {
      const sns = context.broker.snsClient();
      context.cleanup(() => sns.destroy());
      return {
        outbox: new SnsOutbox({ sns, awsHttp: "sdk" }),
        address: await ensureTopic(context.sns, context.unique("outbox")),
        calls: recordCalls(sns),
      };
    },
  },
];

/** A notification whose body is about `bytes` long. */
function envelopeOf(bytes: number): Envelope {
  return {
    message: {
      jsonrpc: "2.0",
      method: "notifications/message",
      params: { data: "x".repeat(bytes) },
    },
    sessionId: "0123456789abcdef0123456789abcdef",
  };
}

/** Entries of each batch call the broker answered, and the bytes each call carried. */
function batches(subject: Subject, calls: RecordedCall[]) {
  const encoder = new TextEncoder();
  return calls.filter((call) => call.command === subject.batch.command && call.output).map(
    (call) => {
      const entries = call.input[subject.batch.entries] as Array<{
        MessageBody?: string;
        Message?: string;
        MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
      }>;
      let bytes = 0;
      for (const entry of entries) {
        bytes += encoder.encode(entry.MessageBody ?? entry.Message ?? "").length;
        for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
          bytes += encoder.encode(name + value.DataType + (value.StringValue ?? "")).length;
        }
      }
      return { entries: entries.length, bytes };
    },
  );
}

for (const subject of subjects) {
  Deno.test(`${subject.name} sends at most 10 messages per batch call`, async () => {
    await withBroker(async (context) => {
      const { outbox, address, calls, held } = await subject.open(context);
      await Promise.all(Array.from({ length: 25 }, () => outbox.send(address, envelopeOf(100))));
      const sent = batches(subject, calls);
      assert.ok(sent.every((batch) => batch.entries <= 10), JSON.stringify(sent));
      assert.equal(sent.reduce((total, batch) => total + batch.entries, 0), 25);
      if (held) assert.equal(await held(), 25);
    });
  });

  Deno.test(`${subject.name} keeps each batch call within the service's byte limit`, async () => {
    await withBroker(async (context) => {
      const { outbox, address, calls, held } = await subject.open(context);
      // Each message is under the limit, any four together are over it.
      const size = Math.floor(subject.limitBytes * 0.3);
      await Promise.all(Array.from({ length: 6 }, () => outbox.send(address, envelopeOf(size))));
      const sent = batches(subject, calls);
      assert.ok(sent.every((batch) => batch.bytes <= subject.limitBytes), JSON.stringify(sent));
      assert.equal(sent.reduce((total, batch) => total + batch.entries, 0), 6);
      if (held) assert.equal(await held(), 6);
    });
  });
}
