import assert from "node:assert/strict";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { BrokerError } from "../session/errors.ts";
import { SqsServer, type SqsServerOptions } from "../transports/sqs/mod.ts";
import { behaviourSuite, type HarnessOptions, type TransportHarness } from "./_behaviour_suite.ts";
import {
  type BrokerContext,
  connectSqsClient,
  createTestServer,
  gatedWork,
  newProbe,
  recordingLogger,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { recordCalls, sentTo } from "./_raw_sqs.ts";

interface SqsOptions extends HarnessOptions {
  /** FIFO request and response queues. */
  fifo?: boolean;
  server?: Partial<SqsServerOptions>;
}

async function setupSqs(context: BrokerContext, options: SqsOptions = {}) {
  const suffix = options.fifo ? ".fifo" : "";
  const requests = await context.queue(`requests${suffix}`, options.requestQueue);
  const replies = await context.queue(`replies${suffix}`);
  const logger = recordingLogger();
  const serve = async (serverOptions: Partial<SqsServerOptions> = {}) => {
    const server = new SqsServer({
      sqs: context.sqs,
      requestQueueUrl: requests.url,
      createServer: () => createTestServer(),
      waitTimeSeconds: 1,
      logger,
      ...serverOptions,
    });
    await server.start();
    // Closed even when an assertion fails first, so that nothing leaks into the next test.
    context.cleanup(() => server.close());
    return server;
  };
  return {
    responseQueueUrl: replies.url,
    server: await serve(options.server),
    events: logger.events,
    serve,
    async connect(connect: { name?: string; clientId?: string; ownAwsClients?: boolean } = {}) {
      const sqs = connect.ownAwsClients ? context.broker.sqsClient() : context.sqs;
      if (connect.ownAwsClients) context.cleanup(() => sqs.destroy());
      return await connectSqsClient(context, requests.url, replies.url, { ...connect, sqs });
    },
  };
}

const sqsHarness: TransportHarness = { name: "SQS", brokered: true, setup: setupSqs };

behaviourSuite(sqsHarness);

Deno.test("SQS: a session works end to end over FIFO request and response queues", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setupSqs(context, { fifo: true });
    const { client } = await connect();
    const progress: number[] = [];
    const result = await client.callTool({ name: "progress", arguments: { steps: 2 } }, undefined, {
      onprogress: ({ progress: step }) => void progress.push(step),
    });
    assert.equal(textOf(result), "2 steps");
    assert.deepEqual(progress, [1, 2]);
    // A server→client request mid-call must not stall the session's message group.
    assert.equal(textOf(await client.callTool({ name: "ask_name", arguments: {} })), "hello Ada");
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: messages to a FIFO response queue are grouped by session, each group named by its session id", async () => {
  await withBroker(async (context) => {
    const sqs = context.broker.sqsClient();
    context.cleanup(() => sqs.destroy());
    const calls = recordCalls(sqs);
    // The SDK path, so that the recorder sees the calls (grouping is the same on both).
    const { connect, responseQueueUrl } = await setupSqs(context, {
      fifo: true,
      server: { sqs, awsHttp: "sdk" },
    });
    const first = await connect({ name: "first" });
    const second = await connect({ name: "second" });
    await Promise.all([first.client.ping(), second.client.ping()]);
    const sent = sentTo(calls, responseQueueUrl);
    // Two initialize results and two pings, at least.
    assert.ok(sent.length >= 4, `${sent.length} messages sent`);
    for (const message of sent) {
      assert.equal(message.groupId, message.attributes.SessionId?.StringValue, message.body);
    }
    assert.deepEqual(
      new Set(sent.map((message) => message.groupId)),
      new Set([first.transport.sessionId, second.transport.sessionId]),
    );
  });
});

Deno.test("SQS: a FIFO request still running at shutdown is answered with a retry error", async () => {
  await withBroker(async (context) => {
    const gate = gatedWork();
    const { server, connect } = await setupSqs(context, {
      fifo: true,
      server: { closeGraceMs: 50, createServer: () => createTestServer({ work: gate.work }) },
    });
    context.cleanup(() => gate.finish());
    const { client } = await connect();
    const call = client.callTool({ name: "work", arguments: {} });
    await gate.started;
    await server.close();
    await assert.rejects(call, /shutting down: send it again/);
    await client.close();
  });
});

Deno.test("SQS: an answer whose response queue is gone is reported once and the request is not run again", async () => {
  await withBroker(async (context) => {
    const probe = newProbe();
    const errors: Error[] = [];
    const { connect, responseQueueUrl } = await setupSqs(context, {
      server: {
        createServer: () => createTestServer({ probe }),
        onerror: (error) => void errors.push(error),
      },
    });
    const { client } = await connect();
    await context.sqs.send(new DeleteQueueCommand({ QueueUrl: responseQueueUrl }));
    await assert.rejects(
      client.callTool({ name: "count_runs", arguments: {} }, undefined, { timeout: 1500 }),
    );
    assert.equal(probe.runs, 1);
    assert.ok(
      errors.some((error) => error instanceof BrokerError && error.operation === "SQS SendMessage"),
    );
  });
});
