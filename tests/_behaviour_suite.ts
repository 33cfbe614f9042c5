/**
 * The end-to-end behaviours every transport must have, written once and run against each
 * transport through a harness: the real broker, the real SDK Client and McpServer.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Client } from "../sdk.ts";
import { McpError } from "../sdk.ts";
import type { HostedServer } from "../session/hosted_server.ts";
import type { SessionOptions } from "../session/session_host.ts";
import type { ClientTransport } from "../session/client_transport.ts";
import { MemorySessionStore } from "../session/session_store.ts";
import {
  type BrokerContext,
  createTestServer,
  eventually,
  type LoggedEvent,
  newProbe,
  textOf,
  untilAborted,
  withBroker,
} from "./_fixture.ts";
import {
  createTaskTestServer,
  newTaskContext,
  taskIsCancelled,
  taskRunsToCompletion,
} from "./_task_fixture.ts";

/** Options a behaviour asks of the harness. */
export interface HarnessOptions {
  /** Options for the first server (and defaults for `serve`). */
  server?: Partial<SessionOptions> & { waitTimeSeconds?: number };
  /** Attributes of the queue the server reads. */
  requestQueue?: Record<string, string>;
}

/** Options for one client. */
export interface ConnectOptions {
  /** The client's name in `clientInfo`. */
  name?: string;
  /** A fixed client id. */
  clientId?: string;
  /** Give this client its own AWS clients, as a second process would have. */
  ownAwsClients?: boolean;
}

/** What a harness sets up for one behaviour. */
export interface Setup {
  server: HostedServer;
  events: LoggedEvent[];
  /** Starts another server on the same request channel. */
  serve(options?: HarnessOptions["server"]): Promise<HostedServer>;
  /** Connects a new test client. */
  connect(options?: ConnectOptions): Promise<{ client: Client; transport: ClientTransport }>;
}

/** How to run the suite against one transport. */
export interface TransportHarness {
  /** Prefix of every test name, e.g. `SQS`. */
  name: string;
  /**
   * Whether messages wait in a broker that hands them to another worker (queues), rather than
   * arriving in an HTTP request whose sender hears a refusal at once (webhooks).
   */
  brokered: boolean;
  setup(context: BrokerContext, options?: HarnessOptions): Promise<Setup>;
}

/** Registers the shared behaviours for `harness`. */
export function behaviourSuite(harness: TransportHarness): void {
  const test = (name: string, fn: (context: BrokerContext) => Promise<void>) =>
    Deno.test(`${harness.name}: ${name}`, () => withBroker(fn));
  // Listed as ignored, with the reason, rather than left out without a word.
  const brokeredTest = harness.brokered ? test : (name: string) =>
    Deno.test({
      name: `${harness.name}: ${name} (ignored: no broker holds or redelivers its messages)`,
      ignore: true,
      fn: () => {},
    });

  test("the SDK Client initializes a session and learns the server's name", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client, transport } = await connect();
    assert.equal(client.getServerVersion()?.name, "asyncmcp-test");
    assert.match(transport.sessionId ?? "", /^[0-9a-f]{32}$/);
    await client.close();
    await server.close();
  });

  test("close() runs once: a second call, and one from inside onclose, fire no second onclose", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client, transport } = await connect();
    let fired = 0;
    const sdkOnclose = transport.onclose;
    transport.onclose = () => {
      fired++;
      void transport.close();
      sdkOnclose?.();
    };
    await Promise.all([transport.close(), transport.close()]);
    await transport.close();
    assert.equal(fired, 1);
    await client.close();
    await server.close();
  });

  test("tools/list returns the server's tools", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client } = await connect();
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === "echo"));
    await client.close();
    await server.close();
  });

  test("tools/call returns the tool's result", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client } = await connect();
    const result = await client.callTool({ name: "echo", arguments: { text: "over the wire" } });
    assert.equal(textOf(result), "over the wire");
    await client.close();
    await server.close();
  });

  test("progress notifications reach the caller before the result", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client } = await connect();
    const progress: number[] = [];
    const result = await client.callTool({ name: "progress", arguments: { steps: 3 } }, undefined, {
      onprogress: ({ progress: step }) => void progress.push(step),
    });
    // Standard queues and topics may deliver a request's last notification after its result (the
    // SDK then drops it); only FIFO keeps order, so here: some arrive, in order, none twice.
    assert.ok(progress.length >= 1, "no progress notification arrived before the result");
    assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
    assert.equal(textOf(result), "3 steps");
    await client.close();
    await server.close();
  });

  test("ping is answered", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client } = await connect();
    assert.deepEqual(await client.ping(), {});
    await client.close();
    await server.close();
  });

  test("cancelling a call aborts the tool handler's signal on the server", async (context) => {
    const probe = newProbe();
    const { server, connect } = await harness.setup(context, {
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

  test("a tool's elicitation request is answered by the client", async (context) => {
    const { server, connect } = await harness.setup(context);
    const { client } = await connect();
    assert.equal(textOf(await client.callTool({ name: "ask_name", arguments: {} })), "hello Ada");
    await client.close();
    await server.close();
  });

  test("a slow call in one session does not delay another session's calls", async (context) => {
    const probe = newProbe();
    const { server, connect } = await harness.setup(context, {
      server: { createServer: () => createTestServer({ probe }) },
    });
    const { client: busy } = await connect({ name: "busy" });
    const { client: other } = await connect({ name: "other" });
    const controller = new AbortController();
    const slow = busy.callTool({ name: "wait_for_cancel", arguments: { id: "slow" } }, undefined, {
      signal: controller.signal,
    });
    await eventually(() => probe.started.includes("slow"));
    for (let i = 0; i < 3; i++) {
      const answer = await other.callTool({ name: "echo", arguments: { text: `quick ${i}` } });
      assert.equal(textOf(answer), `quick ${i}`);
    }
    assert.ok(!probe.aborted.includes("slow"), "the slow call ended before the quick ones ran");
    controller.abort();
    await assert.rejects(slow);
    await busy.close();
    await other.close();
    await server.close();
  });

  test("20 clients sharing one reply channel each receive only their own answers", async (context) => {
    const { server, connect } = await harness.setup(context);
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await connect({ name: `client-${i}` })).client),
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

  test("clients of two processes sharing one reply channel each receive their answers", async (context) => {
    const { server, connect } = await harness.setup(context);
    const first = await connect({ name: "process-1", ownAwsClients: true });
    const second = await connect({ name: "process-2", ownAwsClients: true });
    const answers = await Promise.all([
      first.client.callTool({ name: "echo", arguments: { text: "one" } }),
      second.client.callTool({ name: "echo", arguments: { text: "two" } }),
    ]);
    assert.deepEqual(answers.map(textOf), ["one", "two"]);
    await first.client.close();
    await second.client.close();
    await server.close();
  });

  test("a client reconnecting with the same client id gets a fresh session", async (context) => {
    const { server, connect } = await harness.setup(context);
    const first = await connect({ clientId: "steady" });
    const firstSession = first.transport.sessionId;
    await first.client.close();
    const again = await connect({ clientId: "steady" });
    assert.notEqual(again.transport.sessionId, firstSession);
    assert.deepEqual(await again.client.ping(), {});
    await again.client.close();
    await server.close();
  });

  brokeredTest(
    "a second worker sharing the store answers a request the first one released on close",
    async (context) => {
      const store = new MemorySessionStore();
      const { server: first, serve, connect } = await harness.setup(context, {
        // A long poll aborted by close() can still take the released message on the broker's
        // side; it then returns after the visibility timeout, so keep that short here.
        requestQueue: { VisibilityTimeout: "2" },
        server: {
          store,
          closeGraceMs: 50,
          createServer: () =>
            createTestServer({
              work: untilAborted,
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
    },
  );

  brokeredTest(
    "a request that runs longer than the visibility timeout is delivered once and run once",
    async (context) => {
      let runs = 0;
      const { server, connect, events } = await harness.setup(context, {
        requestQueue: { VisibilityTimeout: "1" },
        server: {
          createServer: () =>
            createTestServer({
              work: async () => {
                runs++;
                await new Promise((resolve) => setTimeout(resolve, 2500));
                return "slow";
              },
            }),
        },
      });
      const { client } = await connect();
      assert.equal(textOf(await client.callTool({ name: "work", arguments: {} })), "slow");
      assert.equal(runs, 1);
      // Runs alone cannot tell: the host drops a redelivery of a request it is running. Every
      // delivery the host sees is logged, so a second one shows there.
      assert.deepEqual(duplicates(events), []);
      await client.close();
      await server.close();
    },
  );

  test("the server refuses an initialize beyond maxSessions with a JSON-RPC error", async (context) => {
    const { server, connect } = await harness.setup(context, { server: { maxSessions: 1 } });
    const { client: first } = await connect({ name: "first" });
    await assert.rejects(connect({ name: "second" }), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -32000);
      assert.match(error.message, /limit of 1 sessions/);
      return true;
    });
    await first.close();
    await server.close();
  });

  test("a server factory that throws answers initialize with an internal error", async (context) => {
    const { server, connect } = await harness.setup(context, {
      server: {
        createServer: () => {
          throw new Error("no database");
        },
      },
    });
    await assert.rejects(connect(), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -32603);
      assert.match(error.message, /no database/);
      return true;
    });
    assert.equal(server.status.sessions, 0);
    await server.close();
  });

  test("close() ends the server's long poll within a second", async (context) => {
    const { server, connect } = await harness.setup(context, { server: { waitTimeSeconds: 20 } });
    // Once a message has been received and answered, the server is back in its long poll.
    const { client } = await connect();
    await client.ping();
    const started = performance.now();
    await server.close();
    assert.ok(performance.now() - started < 1000, "close took a second or more");
  });

  test("close() right after start() leaves nothing running", async (context) => {
    const { server, serve } = await harness.setup(context);
    await server.close();
    await (await serve()).close();
    // The test sanitizers fail this test if a timer or request outlives close().
  });

  test("an idle session is ended and its next message is refused", async (context) => {
    const { server, connect, events } = await harness.setup(context, {
      server: { idleTimeoutMs: 200 },
    });
    const { client } = await connect();
    assert.equal(server.status.sessions, 1);
    await eventually(() => server.status.sessions === 0);
    if (harness.brokered) {
      await assert.rejects(client.ping({ timeout: 500 }), /timed out/i);
    } else {
      await assert.rejects(client.ping(), (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.equal(error.code, -32001);
        return true;
      });
    }
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" && event.fields.reason === "unknown or expired session"
      )
    );
    await client.close();
    await server.close();
  });

  for (
    const [name, scenario] of [
      [
        "a task-augmented tools/call is created, reports its status and returns its result",
        taskRunsToCompletion,
      ],
      ["tasks/cancel cancels a running task", taskIsCancelled],
    ] as const
  ) {
    test(name, async (context) => {
      const tasks = newTaskContext();
      // Registered first, so it runs after the server and client have closed.
      context.cleanup(() => tasks.done());
      const { server, connect } = await harness.setup(context, {
        server: { createServer: () => createTaskTestServer(tasks) },
      });
      const { client } = await connect();
      await scenario(client);
      await client.close();
      await server.close();
    });
  }
}

/** The deliveries of requests the host had already seen (running or answered). */
function duplicates(events: LoggedEvent[]): LoggedEvent[] {
  return events.filter((event) => event.event.startsWith("request.duplicate"));
}
