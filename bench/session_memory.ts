/**
 * Many idle 2025 sessions at once, opened the way a client opens one (`initialize`, its answer,
 * `notifications/initialized`) but without an MCP client per session: what the memory figure
 * needs from the client side.
 *
 * @module
 */

import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { LATEST_PROTOCOL_VERSION } from "../sdk.ts";
import { silentLogger } from "../session/logger.ts";
import { SqsInbox } from "../transports/aws/sqs_inbox.ts";
import { SqsOutbox } from "../transports/sqs/sqs_outbox.ts";

/** Options for {@linkcode openIdleSessions}. */
export interface OpenSessionsOptions {
  sqs: SQSClient;
  /** The server's request queue. */
  requestQueueUrl: string;
  /** Where the answers to `initialize` go. */
  responseQueueUrl: string;
  /** Sessions to open. */
  count: number;
  /** Client ids are this plus a number. */
  clientIdPrefix: string;
  /** Told of each session opened. */
  onOpened?: () => void;
}

/**
 * Opens `count` sessions with the server reading `requestQueueUrl` and leaves them idle;
 * resolves once the server has read every message (its request queue is empty).
 *
 * @example
 * ```ts ignore
 * await openIdleSessions({ sqs, requestQueueUrl, responseQueueUrl, count: 10_000, clientIdPrefix: "m-" });
 * ```
 */
export async function openIdleSessions(options: OpenSessionsOptions): Promise<void> {
  const { sqs, requestQueueUrl, responseQueueUrl, count } = options;
  const outbox = new SqsOutbox({ sqs });
  const answered = new Map<string, (sessionId: string) => void>();
  const inbox = new SqsInbox({
    sqs,
    queueUrl: responseQueueUrl,
    logger: silentLogger,
    // An abandoned long poll would take the next call's first answers and hide them for 30 s.
    wakeOnClose: true,
  });
  await inbox.start((deliveries) => {
    for (const delivery of deliveries) {
      delivery.ack();
      if (!delivery.incoming.ok) continue;
      const { clientId, sessionId } = delivery.incoming.envelope;
      if (clientId && sessionId) answered.get(clientId)?.(sessionId);
    }
  });
  await Promise.all(Array.from({ length: count }, async (_, index) => {
    const clientId = `${options.clientIdPrefix}${index}`;
    const sessionId = new Promise<string>((resolve) => answered.set(clientId, resolve));
    await outbox.send(requestQueueUrl, {
      message: {
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: "bench-memory", version: "1.0.0" },
          _meta: { responseQueueUrl },
        },
      },
      clientId,
    });
    await outbox.send(requestQueueUrl, {
      message: { jsonrpc: "2.0", method: "notifications/initialized" },
      sessionId: await sessionId,
      clientId,
      protocolVersion: LATEST_PROTOCOL_VERSION,
    });
    answered.delete(clientId);
    options.onOpened?.();
  }));
  await inbox.close();
  await outbox.close();
  // The notifications are read once the queue holds nothing, visible or in flight.
  for (;;) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: requestQueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    if (
      Number(Attributes.ApproximateNumberOfMessages) +
          Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 0
    ) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
