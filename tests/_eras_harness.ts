/**
 * Both MCP eras over each asynchronous transport: a server built by any factory (SDK v1 or v2)
 * and client transports that any SDK `Client` connects over.
 *
 * @module
 */

import type { SessionOptions } from "../session/session_host.ts";
import type { ClientTransport } from "../session/client_transport.ts";
import type { HostedServer } from "../session/hosted_server.ts";
import {
  ensureQueue,
  ensureTopic,
  SnsSqsClientTransport,
  SnsSqsServer,
  subscribeQueue,
} from "../transports/sns_sqs/mod.ts";
import { SqsClientTransport, SqsServer } from "../transports/sqs/mod.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import type { Client } from "../sdk_v2.ts";
import { type BrokerContext, type LoggedEvent, recordingLogger } from "./_fixture.ts";
import { createV2TestClient } from "./_v2_fixture.ts";
import { sharedReceiver, startWebhookServer } from "./_webhook_fixture.ts";

/** One transport with a running server and a way to make client transports for it. */
export interface EraSetup {
  server: HostedServer;
  events: LoggedEvent[];
  /** A new, unconnected client transport to the server. */
  transport(): Promise<ClientTransport>;
}

/** How to set up one transport for the era tests. */
export interface EraHarness {
  name: string;
  setup(context: BrokerContext, server: Partial<SessionOptions>): Promise<EraSetup>;
}

/** SQS: one request queue, one response queue shared by the clients. */
export const sqsEras: EraHarness = {
  name: "SQS",
  async setup(context, options) {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const logger = recordingLogger();
    const server = new SqsServer({
      sqs: context.sqs,
      requestQueueUrl: requests.url,
      createServer: options.createServer!,
      waitTimeSeconds: 1,
      logger,
      ...options,
    });
    await server.start();
    context.cleanup(() => server.close());
    return {
      server,
      events: logger.events,
      transport: () =>
        Promise.resolve(
          new SqsClientTransport({
            sqs: context.sqs,
            requestQueueUrl: requests.url,
            responseQueueUrl: replies.url,
            waitTimeSeconds: 1,
            logger: recordingLogger(),
          }),
        ),
    };
  },
};

/** SNS+SQS: a request topic and a reply topic, each client on a queue of its own. */
export const snsEras: EraHarness = {
  name: "SNS+SQS",
  async setup(context, options) {
    const { sqs, sns, unique } = context;
    const requestTopicArn = await ensureTopic(sns, unique("requests"));
    const serverQueue = await ensureQueue(sqs, unique("server"));
    await subscribeQueue({
      sns,
      sqs,
      topicArn: requestTopicArn,
      queue: serverQueue,
      rawMessageDelivery: true,
    });
    const replyTopicArn = await ensureTopic(sns, unique("replies"));
    const logger = recordingLogger();
    const server = new SnsSqsServer({
      sqs,
      sns,
      requestQueueUrl: serverQueue.url,
      requestTopicArn,
      createServer: options.createServer!,
      waitTimeSeconds: 1,
      logger,
      ...options,
    });
    await server.start();
    context.cleanup(() => server.close());
    return {
      server,
      events: logger.events,
      async transport() {
        const clientId = crypto.randomUUID();
        const queue = await ensureQueue(sqs, unique(`client-${clientId}`));
        await subscribeQueue({
          sns,
          sqs,
          topicArn: replyTopicArn,
          queue,
          rawMessageDelivery: true,
          clientId,
        });
        return new SnsSqsClientTransport({
          sqs,
          sns,
          requestTopicArn,
          responseTopicArn: replyTopicArn,
          responseQueueUrl: queue.url,
          clientId,
          waitTimeSeconds: 1,
          logger: recordingLogger(),
        });
      },
    };
  },
};

/** Webhook: the server on loopback, the clients sharing one receiver. */
export const webhookEras: EraHarness = {
  name: "Webhook",
  async setup(context, options) {
    const receiver = await sharedReceiver(context.cleanup);
    const { server, url, events } = await startWebhookServer(context.cleanup, options);
    return {
      server,
      events,
      transport: () =>
        Promise.resolve(
          new WebhookClientTransport({
            serverUrl: url,
            receiver,
            logger: recordingLogger(),
          }),
        ),
    };
  },
};

/** Every transport, for suites that run on each. */
export const ERA_HARNESSES: EraHarness[] = [sqsEras, snsEras, webhookEras];

/**
 * Connects `client` (a fresh v2 test client unless given, e.g. one with handlers set) to the
 * setup's server over a new client transport; it is closed when the test ends.
 */
export async function connectV2Client(
  context: Pick<BrokerContext, "cleanup">,
  setup: EraSetup,
  client: Client = createV2TestClient(),
): Promise<Client> {
  await client.connect(await setup.transport());
  context.cleanup(() => client.close());
  return client;
}
