import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import type { Transport } from "../sdk.ts";
import { silentLogger } from "../session/logger.ts";
import { SnsSqsClientTransport } from "../transports/sns_sqs/sns_sqs_client_transport.ts";
import { SnsSqsServer } from "../transports/sns_sqs/sns_sqs_server.ts";
import { ensureSnsSqsTopology } from "../transports/sns_sqs/sns_sqs_topology.ts";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { SqsServer } from "../transports/sqs/sqs_server.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import { WebhookServer } from "../transports/webhook/webhook_server.ts";
import { type BrokerContext, withBroker } from "./_fixture.ts";
import { assertAllActivePass, runConformance } from "./_mcp_conformance.ts";
import { createConformanceServer } from "./_mcp_conformance_server.ts";
import { allowLoopback, serveOnLoopback, sharedReceiver } from "./_webhook_fixture.ts";

/** Serves the proxy in front of `backend` on loopback and runs the suite against it. */
async function conformanceThroughProxy(
  context: BrokerContext,
  backend: () => Transport,
): Promise<void> {
  const proxy = new StreamableHttpProxy({ backend, logger: silentLogger });
  const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
  context.cleanup(() => proxy.close());
  assertAllActivePass(await runConformance(`${url}/mcp`));
}

Deno.test("conformance: every active server scenario passes through the proxy to a server behind SQS", async () => {
  await withBroker(async (context) => {
    // FIFO: a standard queue may deliver a tool's last progress after its result.
    const requests = await context.queue("conformance-requests.fifo");
    const replies = await context.queue("conformance-replies.fifo");
    const server = new SqsServer({
      sqs: context.sqs,
      requestQueueUrl: requests.url,
      createServer: createConformanceServer,
      waitTimeSeconds: 1,
      logger: silentLogger,
    });
    await server.start();
    context.cleanup(() => server.close());
    await conformanceThroughProxy(context, () =>
      new SqsClientTransport({
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        responseQueueUrl: replies.url,
        waitTimeSeconds: 1,
        logger: silentLogger,
      }));
  });
});

Deno.test("conformance: every active server scenario passes through the proxy to a server behind SNS+SQS", async () => {
  await withBroker(async (context) => {
    const topology = await ensureSnsSqsTopology({
      sqs: context.sqs,
      sns: context.sns,
      requestTopic: context.unique("conformance-requests.fifo"),
      replyTopic: context.unique("conformance-replies.fifo"),
      serverQueue: context.unique("conformance-server.fifo"),
      clientQueue: context.unique("conformance-client.fifo"),
    });
    const server = new SnsSqsServer({
      sqs: context.sqs,
      sns: context.sns,
      requestQueueUrl: topology.requestQueueUrl,
      createServer: createConformanceServer,
      waitTimeSeconds: 1,
      logger: silentLogger,
    });
    await server.start();
    context.cleanup(() => server.close());
    await conformanceThroughProxy(context, () =>
      new SnsSqsClientTransport({
        sqs: context.sqs,
        sns: context.sns,
        requestTopicArn: topology.requestTopicArn,
        responseTopicArn: topology.responseTopicArn,
        responseQueueUrl: topology.responseQueueUrl,
        waitTimeSeconds: 1,
        logger: silentLogger,
      }));
  });
});

Deno.test("conformance: every active server scenario passes through the proxy to a webhook server", async () => {
  await withBroker(async (context) => {
    const server = new WebhookServer({
      createServer: createConformanceServer,
      addressPolicy: allowLoopback,
      logger: silentLogger,
    });
    await server.start();
    const { url } = await serveOnLoopback(context.cleanup, server.fetch);
    context.cleanup(() => server.close());
    const receiver = await sharedReceiver(context.cleanup);
    await conformanceThroughProxy(context, () =>
      new WebhookClientTransport({
        serverUrl: `${url}/mcp/request`,
        receiver,
        logger: silentLogger,
      }));
  });
});

Deno.test("conformance: every active server scenario passes through the proxy to a StreamableHTTP+Webhook server", async () => {
  await withBroker(async (context) => {
    const server = new StreamableHttpWebhookServer({
      createServer: createConformanceServer,
      webhookTools: ["test_tool_with_progress", "test_elicitation"],
      addressPolicy: allowLoopback,
      logger: silentLogger,
    });
    const { url } = await serveOnLoopback(context.cleanup, server.fetch);
    context.cleanup(() => server.close());
    const receiver = await sharedReceiver(context.cleanup);
    await conformanceThroughProxy(context, () =>
      new StreamableHttpWebhookClientTransport({
        serverUrl: `${url}/mcp`,
        receiver,
        logger: silentLogger,
      }));
  });
});
