import assert from "node:assert/strict";
import type { Client } from "../sdk.ts";
import { McpError } from "../sdk.ts";
import { MemorySessionStore } from "../session/session_store.ts";
import { SqsClientTransport, SqsServer, type SqsServerOptions } from "../transports/sqs.ts";
import {
  type BrokerContext,
  createTestClient,
  createTestServer,
  eventually,
  type LoggedEvent,
  newProbe,
  recordingLogger,
  textOf,
  withBroker,
} from "./_fixture.ts";

interface Setup {
  requestQueueUrl: string;
  responseQueueUrl: string;
  server: SqsServer;
  events: LoggedEvent[];
  /** Starts another server on the same request queue. */
  serve(options?: Partial<SqsServerOptions>): Promise<SqsServer>;
  /** Connects a new test client through the response queue. */
  connect(name?: string): Promise<{ client: Client; transport: SqsClientTransport }>;
}

/** A server on a fresh request queue, a response queue, and a way to connect clients. */
async function setup(
  context: BrokerContext,
  options: {
    server?: Partial<SqsServerOptions>;
    requestQueue?: Record<string, string>;
    fifo?: boolean;
  } = {},
): Promise<Setup> {
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
    return server;
  };
  return {
    requestQueueUrl: requests.url,
    responseQueueUrl: replies.url,
    server: await serve(options.server),
    events: logger.events,
    serve,
    async connect(name) {
      const client = createTestClient(name);
      const transport = new SqsClientTransport({
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        responseQueueUrl: replies.url,
        waitTimeSeconds: 1,
      });
      await client.connect(transport);
      return { client, transport };
    },
  };
}

Deno.test("SQS: the SDK Client initializes a session and learns the server's name", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const { client, transport } = await connect();
    assert.equal(client.getServerVersion()?.name, "asyncmcp-test");
    assert.match(transport.sessionId ?? "", /^[0-9a-f]{32}$/);
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: tools/list returns the server's tools", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const { client } = await connect();
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === "echo"));
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: tools/call returns the tool's result", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const { client } = await connect();
    const result = await client.callTool({ name: "echo", arguments: { text: "over the queue" } });
    assert.equal(textOf(result), "over the queue");
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: progress notifications reach the caller before the result", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const { client } = await connect();
    const progress: number[] = [];
    const result = await client.callTool({ name: "progress", arguments: { steps: 3 } }, undefined, {
      onprogress: ({ progress: step }) => void progress.push(step),
    });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.equal(textOf(result), "3 steps");
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: ping is answered", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const { client } = await connect();
    assert.deepEqual(await client.ping(), {});
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: cancelling a call aborts the tool handler's signal on the server", async () => {
  await withBroker(async (context) => {
    const probe = newProbe();
    const { server, connect } = await setup(context, {
      server: { createServer: () => createTestServer({ probe }) },
    });
    const { client } = await connect();
    const controller = new AbortController();
    const call = client.callTool({ name: "wait_for_cancel", arguments: { id: "c1" } }, undefined, {
      signal: controller.signal,
    });
    await eventually(() => probe.started.includes("c1"));
    controller.abort("user gave up");
    await assert.rejects(call);
    await eventually(() => probe.aborted.includes("c1"));
    // The cancelled request's message is acknowledged, not left to come back and run again.
    await eventually(() => server.status.inFlightRequests === 0);
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: a tool's elicitation request is answered by the client", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const { client } = await connect();
    assert.equal(textOf(await client.callTool({ name: "ask_name", arguments: {} })), "hello Ada");
    await client.close();
    await server.close();
  });
});

Deno.test("SQS: 20 clients sharing one response queue each receive only their own answers", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context);
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await connect(`client-${i}`)).client),
    );
    const answers = await Promise.all(
      clients.flatMap((client, i) =>
        [0, 1, 2].map(async (n) =>
          textOf(await client.callTool({ name: "echo", arguments: { text: `${i}/${n}` } }))
        )
      ),
    );
    assert.deepEqual(answers, clients.flatMap((_, i) => [0, 1, 2].map((n) => `${i}/${n}`)));
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });
});

Deno.test("SQS: a session works end to end over FIFO request and response queues", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context, { fifo: true });
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

Deno.test("SQS: a second worker sharing the store answers a request the first one released on close", async () => {
  await withBroker(async (context) => {
    const store = new MemorySessionStore();
    const { server: first, serve, connect } = await setup(context, {
      // A long poll aborted by close() can still take the released message on the broker's
      // side; it then returns after the visibility timeout, so keep that short here.
      requestQueue: { VisibilityTimeout: "2" },
      server: {
        store,
        closeGraceMs: 50,
        createServer: () =>
          createTestServer({
            work: (signal) =>
              new Promise((_, reject) =>
                signal.addEventListener("abort", () => reject(signal.reason))
              ),
          }),
      },
    });
    const { client } = await connect();
    const errors: Error[] = [];
    client.onerror = (error) => void errors.push(error);
    const call = client.callTool({ name: "work", arguments: {} });
    await eventually(() => first.status.inFlightRequests === 1);
    await first.close();
    const second = await serve({
      store,
      createServer: () =>
        createTestServer({ work: () => Promise.resolve("done by the second worker") }),
    });
    assert.equal(textOf(await call), "done by the second worker");
    // Room for a stray second answer to arrive: the client would report an unknown response id.
    await client.ping();
    assert.deepEqual(errors, []);
    await client.close();
    await second.close();
  });
});

Deno.test("SQS: the server refuses an initialize beyond maxSessions with a JSON-RPC error", async () => {
  await withBroker(async (context) => {
    const { server, connect } = await setup(context, { server: { maxSessions: 1 } });
    const { client: first } = await connect("first");
    await assert.rejects(connect("second"), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -32000);
      assert.match(error.message, /limit of 1 sessions/);
      return true;
    });
    await first.close();
    await server.close();
  });
});

Deno.test("SQS: close() ends the server's long poll within a second", async () => {
  await withBroker(async (context) => {
    const { server } = await setup(context, { server: { waitTimeSeconds: 20 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 1000, "close took a second or more");
  });
});

Deno.test("SQS: an idle session is ended and its next message is refused", async () => {
  await withBroker(async (context) => {
    const { server, connect, events } = await setup(context, { server: { idleTimeoutMs: 200 } });
    const { client } = await connect();
    assert.equal(server.status.sessions, 1);
    await eventually(() => server.status.sessions === 0);
    await assert.rejects(client.ping({ timeout: 500 }), /timed out/i);
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" && event.fields.reason === "unknown or expired session"
      )
    );
    await client.close();
    await server.close();
  });
});
