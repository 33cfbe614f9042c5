/**
 * The four back ends a conformance run reaches through the proxy, each started on loopback with the
 * embedded broker (FIFO queues and topics: a standard queue may deliver a tool's last progress after
 * its result, which the suite counts as a failure).
 *
 * @module
 */

import type { ServerEventBus } from "@modelcontextprotocol/server";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import type { Transport } from "../sdk.ts";
import { silentLogger } from "../session/logger.ts";
import type { ConnectableServer, ServerFactoryContext } from "../session/session_host.ts";
import { SnsSqsClientTransport } from "../transports/sns_sqs/sns_sqs_client_transport.ts";
import { SnsSqsServer } from "../transports/sns_sqs/sns_sqs_server.ts";
import { ensureSnsSqsTopology } from "../transports/sns_sqs/sns_sqs_topology.ts";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { SqsServer } from "../transports/sqs/sqs_server.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import { WebhookServer } from "../transports/webhook/webhook_server.ts";
import type { BrokerContext } from "./_fixture.ts";
import { allowLoopback, serveOnLoopback, sharedReceiver } from "./_webhook_fixture.ts";

/** The transports a server can sit behind. */
export type BackEndKind = "SQS" | "SNS+SQS" | "Webhook" | "StreamableHTTP+Webhook";

/** What the conformance server behind the back end is made of. */
export interface ConformanceServing {
  createServer: (context: ServerFactoryContext) => ConnectableServer | Promise<ConnectableServer>;
  /** Change events for 2026-07-28 subscriptions (the v2 fixture's). */
  bus?: ServerEventBus;
}

/** A started back end: how the proxy reaches it, and its own URL where it has one. */
export interface ConformanceBackEnd {
  backend: () => Transport;
  /** The StreamableHTTP+Webhook server's MCP endpoint, which clients can also use directly. */
  directUrl?: string;
  /** SQS's request and response queues, for clients started elsewhere (a CLI). */
  queues?: { requestQueueUrl: string; responseQueueUrl: string };
}

/** The tools the StreamableHTTP+Webhook server answers by webhook: a long one and a multi-round one. */
const WEBHOOK_TOOLS = ["test_tool_with_progress", "test_elicitation"];

/** Starts the conformance server behind `kind`; everything stops with `context`. */
export async function startBackEnd(
  context: BrokerContext,
  kind: BackEndKind,
  serving: ConformanceServing,
): Promise<ConformanceBackEnd> {
  const common = { ...serving, logger: silentLogger };
  switch (kind) {
    case "SQS": {
      const requests = await context.queue("conformance-requests.fifo");
      const replies = await context.queue("conformance-replies.fifo");
      const server = new SqsServer({
        ...common,
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        waitTimeSeconds: 1,
      });
      await server.start();
      context.cleanup(() => server.close());
      return {
        queues: { requestQueueUrl: requests.url, responseQueueUrl: replies.url },
        backend: () =>
          new SqsClientTransport({
            sqs: context.sqs,
            requestQueueUrl: requests.url,
            responseQueueUrl: replies.url,
            waitTimeSeconds: 1,
            logger: silentLogger,
          }),
      };
    }
    case "SNS+SQS": {
      const topology = await ensureSnsSqsTopology({
        sqs: context.sqs,
        sns: context.sns,
        requestTopic: context.unique("conformance-requests.fifo"),
        replyTopic: context.unique("conformance-replies.fifo"),
        serverQueue: context.unique("conformance-server.fifo"),
        clientQueue: context.unique("conformance-client.fifo"),
      });
      const server = new SnsSqsServer({
        ...common,
        sqs: context.sqs,
        sns: context.sns,
        requestQueueUrl: topology.requestQueueUrl,
        waitTimeSeconds: 1,
      });
      await server.start();
      context.cleanup(() => server.close());
      return {
        backend: () =>
          new SnsSqsClientTransport({
            sqs: context.sqs,
            sns: context.sns,
            requestTopicArn: topology.requestTopicArn,
            responseTopicArn: topology.responseTopicArn,
            responseQueueUrl: topology.responseQueueUrl,
            waitTimeSeconds: 1,
            logger: silentLogger,
          }),
      };
    }
    case "Webhook": {
      const server = new WebhookServer({ ...common, addressPolicy: allowLoopback });
      await server.start();
      const { url } = await serveOnLoopback(context.cleanup, server.fetch);
      context.cleanup(() => server.close());
      const receiver = await sharedReceiver(context.cleanup);
      return {
        backend: () =>
          new WebhookClientTransport({
            serverUrl: `${url}/mcp/request`,
            receiver,
            logger: silentLogger,
          }),
      };
    }
    case "StreamableHTTP+Webhook": {
      const server = new StreamableHttpWebhookServer({
        ...common,
        webhookTools: WEBHOOK_TOOLS,
        addressPolicy: allowLoopback,
      });
      const { url } = await serveOnLoopback(context.cleanup, server.fetch);
      context.cleanup(() => server.close());
      const receiver = await sharedReceiver(context.cleanup);
      return {
        directUrl: `${url}/mcp`,
        backend: () =>
          new StreamableHttpWebhookClientTransport({
            serverUrl: `${url}/mcp`,
            receiver,
            logger: silentLogger,
          }),
      };
    }
  }
}

/** Serves the proxy in front of `backEnd` on loopback; returns it and its MCP endpoint. */
export async function serveProxy(
  context: BrokerContext,
  backEnd: ConformanceBackEnd,
): Promise<{ url: string; proxy: StreamableHttpProxy }> {
  const proxy = new StreamableHttpProxy({ backend: backEnd.backend, logger: silentLogger });
  const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
  context.cleanup(() => proxy.close());
  return { url: `${url}/mcp`, proxy };
}
