import assert from "node:assert/strict";
import { ListSubscriptionsByTopicCommand, PublishCommand } from "@aws-sdk/client-sns";
import { McpError } from "../sdk.ts";
import { MessageTooLargeError } from "../session/errors.ts";
import {
  ensureQueue,
  ensureSnsSqsTopology,
  ensureTopic,
  SnsSqsClientTransport,
  SnsSqsServer,
  type SnsSqsServerOptions,
  subscribeQueue,
} from "../transports/sns_sqs/mod.ts";
import { behaviourSuite, type HarnessOptions, type TransportHarness } from "./_behaviour_suite.ts";
import {
  type BrokerContext,
  connectOrClose,
  createTestClient,
  createTestServer,
  eventually,
  recordingLogger,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { pythonAttributes, pythonInitializeBody, receiveNone, receiveOne } from "./_raw_sqs.ts";

interface SnsOptions extends HarnessOptions {
  /** Subscriptions deliver SNS's JSON envelope instead of the raw message. */
  envelopes?: boolean;
  server?: Partial<SnsSqsServerOptions>;
}

async function setupSns(context: BrokerContext, options: SnsOptions = {}) {
  const { sqs, sns, unique } = context;
  const rawMessageDelivery = !options.envelopes;
  const requestTopicArn = await ensureTopic(sns, unique("requests"));
  const serverQueue = await ensureQueue(sqs, unique("server"), options.requestQueue);
  await subscribeQueue({
    sns,
    sqs,
    topicArn: requestTopicArn,
    queue: serverQueue,
    rawMessageDelivery,
  });
  const replyTopicArn = await ensureTopic(sns, unique("replies"));
  const logger = recordingLogger();
  const serve = async (serverOptions: Partial<SnsSqsServerOptions> = {}) => {
    const server = new SnsSqsServer({
      sqs,
      sns,
      requestQueueUrl: serverQueue.url,
      requestTopicArn,
      createServer: () => createTestServer(),
      waitTimeSeconds: 1,
      logger,
      ...options.server,
      ...serverOptions,
    });
    await server.start();
    // Closed even when an assertion fails first, so that nothing leaks into the next test.
    context.cleanup(() => server.close());
    return server;
  };
  return {
    requestTopicArn,
    replyTopicArn,
    serverQueueUrl: serverQueue.url,
    server: await serve(),
    events: logger.events,
    serve,
    /** Each client reads its own queue on the shared reply topic, filtered on its ClientId. */
    async connect(connect: { name?: string; clientId?: string; ownAwsClients?: boolean } = {}) {
      const clientId = connect.clientId ?? crypto.randomUUID();
      const clientQueue = await ensureQueue(sqs, unique(`client-${clientId}`));
      await subscribeQueue({
        sns,
        sqs,
        topicArn: replyTopicArn,
        queue: clientQueue,
        rawMessageDelivery,
        clientId,
      });
      const own = connect.ownAwsClients
        ? { sqs: context.broker.sqsClient(), sns: context.broker.snsClient() }
        : { sqs, sns };
      if (connect.ownAwsClients) {
        context.cleanup(() => {
          own.sqs.destroy();
          own.sns.destroy();
        });
      }
      const client = createTestClient(connect.name);
      const transport = new SnsSqsClientTransport({
        ...own,
        requestTopicArn,
        responseTopicArn: replyTopicArn,
        responseQueueUrl: clientQueue.url,
        clientId,
        waitTimeSeconds: 1,
        logger: recordingLogger(),
      });
      await connectOrClose(client, transport);
      context.cleanup(() => client.close());
      return { client, transport };
    },
  };
}

const snsHarness: TransportHarness = { name: "SNS+SQS", brokered: true, setup: setupSns };

behaviourSuite(snsHarness);
behaviourSuite({
  name: "SNS+SQS with envelopes",
  brokered: true,
  setup: (context, options) => setupSns(context, { ...options, envelopes: true }),
});

Deno.test("SNS+SQS: an audit queue on the request topic sees every request while the server answers", async () => {
  await withBroker(async (context) => {
    const { server, connect, requestTopicArn } = await setupSns(context);
    const audit = await ensureQueue(context.sqs, context.unique("audit"));
    await subscribeQueue({ ...context, topicArn: requestTopicArn, queue: audit });
    const { client } = await connect();
    assert.equal(
      textOf(await client.callTool({ name: "echo", arguments: { text: "seen" } })),
      "seen",
    );
    const methods = new Set<string>();
    await eventually(async () => {
      methods.add(String((await receiveOne(context.sqs, audit.url)).json.method));
      return methods.has("tools/call");
    });
    assert.ok(methods.has("initialize"));
    await client.close();
    await server.close();
  });
});

Deno.test("SNS+SQS: a client topic in another account is refused and nothing is published", async () => {
  await withBroker(async (context) => {
    const { server, events, requestTopicArn, replyTopicArn } = await setupSns(context);
    const elsewhere = replyTopicArn.replace(/:\d{12}:/, ":999999999999:");
    await context.sns.send(
      new PublishCommand({
        TopicArn: requestTopicArn,
        Message: pythonInitializeBody({ _meta: { clientTopicArn: elsewhere } }),
        MessageAttributes: pythonAttributes({
          RequestId: "0",
          Method: "initialize",
          ClientId: "c",
        }),
      }),
    );
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" && event.fields.returnAddress === elsewhere
      )
    );
    assert.equal(server.status.sessions, 0);
    await server.close();
  });
});

Deno.test("SNS+SQS: a result over 256 KiB reaches the caller as a JSON-RPC error", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setupSns(context);
    const { client } = await connect();
    await assert.rejects(
      client.callTool({ name: "big", arguments: { bytes: 300_000 } }),
      (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.equal(error.code, -32603);
        assert.match(
          error.message,
          /Result too large to send: \d+ bytes, the limit is 262144 bytes/,
        );
        return true;
      },
    );
    await client.close();
    await server.close();
  });
});

Deno.test("SNS+SQS: a request over 256 KiB fails with MessageTooLargeError before it is published", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setupSns(context);
    const { client } = await connect();
    await assert.rejects(
      client.callTool({ name: "echo", arguments: { text: "z".repeat(300_000) } }),
      MessageTooLargeError,
    );
    await client.close();
    await server.close();
  });
});

for (
  const [spelling, params] of [
    ["_meta.clientTopicArn", (topic: string) => ({ _meta: { clientTopicArn: topic } })],
    ["legacy params.client_topic_arn", (topic: string) => ({ client_topic_arn: topic })],
  ] as const
) {
  Deno.test(`SNS+SQS wire: a Python client's initialize with ${spelling} is answered on its topic`, async () => {
    await withBroker(async (context) => {
      const { server, requestTopicArn, replyTopicArn } = await setupSns(context);
      const inbox = await ensureQueue(context.sqs, context.unique("python-client"));
      await subscribeQueue({ ...context, topicArn: replyTopicArn, queue: inbox });
      await context.sns.send(
        new PublishCommand({
          TopicArn: requestTopicArn,
          Message: pythonInitializeBody(params(replyTopicArn)),
          MessageAttributes: pythonAttributes({
            RequestId: "0",
            Method: "initialize",
            ClientId: "python-client",
          }),
        }),
      );
      const answer = await receiveOne(context.sqs, inbox.url);
      assert.equal(answer.json.id, 0);
      assert.ok(answer.json.result);
      assert.match(answer.attributes.SessionId.StringValue!, /^[0-9a-f]{32}$/);
      assert.equal(answer.attributes.ClientId.StringValue, "python-client");
      await server.close();
    });
  });
}

Deno.test("SNS+SQS: ensureSnsSqsTopology is idempotent and filters a shared reply topic by client", async () => {
  await withBroker(async (context) => {
    const options = {
      ...context,
      requestTopic: context.unique("t-requests"),
      serverQueue: context.unique("t-server"),
      replyTopic: context.unique("t-replies"),
      clientQueue: context.unique("t-client-a"),
      clientId: "a",
      auditQueues: [context.unique("t-audit")],
    };
    const first = await ensureSnsSqsTopology(options);
    const second = await ensureSnsSqsTopology(options);
    assert.deepEqual(second, first);
    const { Subscriptions = [] } = await context.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: first.requestTopicArn }),
    );
    assert.equal(Subscriptions.length, 2, "server queue and audit queue, once each");
    await context.sns.send(
      new PublishCommand({
        TopicArn: first.responseTopicArn,
        Message: "{}",
        MessageAttributes: { ClientId: { DataType: "String", StringValue: "someone-else" } },
      }),
    );
    assert.ok(
      await receiveNone(context.sqs, first.responseQueueUrl),
      "the filter let another client's message through",
    );
  });
});

Deno.test("SNS+SQS malformed: a body that is not JSON in a known session is answered with a parse error on the client's topic", async () => {
  await withBroker(async (context) => {
    const { server, requestTopicArn, replyTopicArn } = await setupSns(context);
    const inbox = await ensureQueue(context.sqs, context.unique("python-client"));
    await subscribeQueue({ ...context, topicArn: replyTopicArn, queue: inbox });
    const publish = (message: string, attributes: Record<string, string>) =>
      context.sns.send(
        new PublishCommand({
          TopicArn: requestTopicArn,
          Message: message,
          MessageAttributes: pythonAttributes(attributes),
        }),
      );
    await publish(pythonInitializeBody({ _meta: { clientTopicArn: replyTopicArn } }), {
      RequestId: "0",
      Method: "initialize",
      ClientId: "python-client",
    });
    const sessionId = (await receiveOne(context.sqs, inbox.url)).attributes.SessionId.StringValue!;
    await publish("{oops", { SessionId: sessionId, ClientId: "python-client" });
    const answer = await receiveOne(context.sqs, inbox.url);
    assert.equal(answer.json.id, null);
    assert.equal((answer.json.error as { code: number }).code, -32700);
    await server.close();
  });
});
