import assert from "node:assert/strict";
import { z } from "zod";
import { InMemoryServerEventBus, McpServer } from "../sdk_v2.ts";
import { MemorySessionStore } from "../session/session_store.ts";
import { SqsClientTransport } from "../transports/sqs/mod.ts";
import { connectV2Client, ERA_HARNESSES, sqsEras, webhookEras } from "./_eras_harness.ts";
import { eventually, recordingLogger, startSqsServer, textOf, withBroker } from "./_fixture.ts";
import { messagesOn, pythonAttributes, receiveOne, sendRaw } from "./_raw_sqs.ts";
import { createV2TestClient, createV2TestServer, newV2Probe } from "./_v2_fixture.ts";
import { createConformanceServerV2, newConformanceStateV2 } from "./_mcp_conformance_server_v2.ts";
import { envelope, rawModernClient } from "./_raw_modern_client.ts";
import { spawnWorker } from "./_worker.ts";
import { startWebhookServer, withCleanup } from "./_webhook_fixture.ts";

const MODERN = "2026-07-28";
const TASKS = "io.modelcontextprotocol/tasks";

/**
 * A v2 server with a task-returning tool of the tasks extension: the tasks live outside the
 * factory, since every 2026-07-28 request gets a fresh server (any worker may serve any).
 */
function taskServerFactory() {
  const tasks = new Map<
    string,
    { status: string; result?: unknown; createdAt: string; timer?: ReturnType<typeof setTimeout> }
  >();
  const factory = () => {
    const server = new McpServer({ name: "tasks", version: "1.0.0" }, {
      capabilities: { tools: {}, extensions: { [TASKS]: {} } } as never,
    });
    server.registerTool("slow_job", { inputSchema: z.object({ ms: z.number() }) }, ({ ms }) => {
      const taskId = crypto.randomUUID();
      const now = new Date().toISOString();
      tasks.set(taskId, { status: "working", createdAt: now });
      tasks.get(taskId)!.timer = setTimeout(() => {
        const task = tasks.get(taskId)!;
        if (task.status !== "working") return;
        task.status = "completed";
        task.result = { content: [{ type: "text", text: "job done" }] };
      }, ms);
      return {
        resultType: "task",
        taskId,
        status: "working",
        createdAt: now,
        lastUpdatedAt: now,
        ttlMs: 60_000,
        pollIntervalMs: 10,
      } as never;
    });
    const taskParams = { params: z.object({ taskId: z.string() }).passthrough() };
    server.server.setRequestHandler(
      "tasks/get" as never,
      taskParams as never,
      (({ taskId }: {
        taskId: string;
      }) => {
        const task = tasks.get(taskId);
        if (!task) throw new Error(`Task not found: ${taskId}`);
        const { timer: _timer, ...state } = task;
        return { taskId, ...state, lastUpdatedAt: new Date().toISOString(), ttlMs: 60_000 };
      }) as never,
    );
    server.server.setRequestHandler(
      "tasks/cancel" as never,
      taskParams as never,
      (({ taskId }: {
        taskId: string;
      }) => {
        const task = tasks.get(taskId);
        if (task) {
          task.status = "cancelled";
          clearTimeout(task.timer);
        }
        return {};
      }) as never,
    );
    return server;
  };
  return { tasks, factory };
}

Deno.test("SQS: two worker processes with no session store both answer a burst of 2026-07-28 requests", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const workers = [
      spawnWorker(context, "./_stateless_worker_process.ts", [requests.url]),
      spawnWorker(context, "./_stateless_worker_process.ts", [requests.url]),
    ];
    await Promise.all(workers.map((worker) => worker.printed("ready")));
    const client = createV2TestClient();
    await client.connect(
      new SqsClientTransport({
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        responseQueueUrl: replies.url,
        waitTimeSeconds: 1,
        logger: recordingLogger(),
      }),
    );
    context.cleanup(() => client.close());
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => client.callTool({ name: "whoami", arguments: {} })),
    );
    const pids = new Set(answers.map(textOf));
    assert.equal(answers.length, 40);
    assert.equal(pids.size, 2, `answered by ${[...pids].join(", ")}`);
  });
});

Deno.test("SQS: a 2026-07-28 request creates no session and no stored record", async () => {
  await withBroker(async (context) => {
    const store = new MemorySessionStore();
    const setup = await sqsEras.setup(context, {
      store,
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const client = await connectV2Client(context, setup);
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "x" } })), "x");
    assert.equal(setup.server.status.sessions, 0);
    assert.equal(store.size, 0);
  });
});

for (const harness of [sqsEras, webhookEras]) {
  Deno.test(`${harness.name}: an input_required tool asks the client and finishes on its answer`, async () => {
    await withBroker(async (context) => {
      const setup = await harness.setup(context, {
        createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
      });
      const client = createV2TestClient();
      let asked = 0;
      client.setRequestHandler("elicitation/create", () => {
        asked++;
        return { action: "accept", content: { ok: true } };
      });
      await connectV2Client(context, setup, client);
      const result = await client.callTool({ name: "confirm", arguments: { action: "deploy" } });
      assert.equal(textOf(result), "deploy confirmed");
      assert.equal(asked, 1);
    });
  });
}

for (const harness of ERA_HARNESSES) {
  Deno.test(`${harness.name}: a task of the tasks extension is created, polled to its result and cancelled`, async () => {
    await withBroker(async (context) => {
      const { tasks, factory } = taskServerFactory();
      const setup = await harness.setup(context, { createServer: factory });
      const raw = await rawModernClient(await setup.transport(), { extensions: { [TASKS]: {} } });
      context.cleanup(() => raw.close());
      const created = await raw.request("tools/call", {
        name: "slow_job",
        arguments: { ms: 50 },
      });
      assert.equal(created.result?.resultType, "task");
      const taskId = created.result?.taskId as string;
      let status: Record<string, unknown> | undefined;
      await eventually(async () => {
        status = (await raw.request("tasks/get", { taskId })).result;
        return status?.status === "completed";
      });
      assert.deepEqual(status?.result, { content: [{ type: "text", text: "job done" }] });
      const second = await raw.request("tools/call", {
        name: "slow_job",
        arguments: { ms: 60_000 },
      });
      const secondId = second.result?.taskId as string;
      const cancelled = await raw.request("tasks/cancel", { taskId: secondId });
      assert.equal(cancelled.result?.resultType, "complete");
      assert.equal(tasks.get(secondId)?.status, "cancelled");
      assert.equal(
        (await raw.request("tasks/get", { taskId: secondId })).result?.status,
        "cancelled",
      );
    });
  });
}

Deno.test("SQS: subscriptions/listen gets list changes at its return address until it is cancelled", async () => {
  await withBroker(async (context) => {
    const setup = await sqsEras.setup(context, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const client = createV2TestClient();
    let changes = 0;
    client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
    await connectV2Client(context, setup, client);
    const subscription = await client.listen({ toolsListChanged: true });
    assert.deepEqual(subscription.honoredFilter, { toolsListChanged: true });
    setup.server.notifyChanged("tools");
    await eventually(() => changes === 1);
    await subscription.close();
    await eventually(() => setup.server.status.inFlightRequests === 0);
    setup.server.notifyChanged("tools");
    await client.ping().catch(() => {});
    assert.equal(changes, 1, "a change reached a cancelled subscription");
  });
});

for (const harness of [sqsEras, webhookEras]) {
  Deno.test(`${harness.name}: a change published on the server's bus reaches every client's open subscriptions/listen, though each client has a server of its own`, async () => {
    await withBroker(async (context) => {
      const bus = new InMemoryServerEventBus();
      const state = newConformanceStateV2();
      context.cleanup(() => state.tasks.close());
      // A low-level Server, as the fixture is: its resource updates are its own to send.
      const setup = await harness.setup(context, {
        bus,
        createServer: (serverContext) => createConformanceServerV2({ ...serverContext, state }),
      });
      const heard = await Promise.all(["a", "b"].map(async () => {
        const client = createV2TestClient();
        const seen: string[] = [];
        client.setNotificationHandler("notifications/tools/list_changed", () => {
          seen.push("tools");
        });
        client.setNotificationHandler("notifications/resources/updated", (notification) => {
          seen.push(notification.params.uri);
        });
        await connectV2Client(context, setup, client);
        await client.listen({
          toolsListChanged: true,
          resourceSubscriptions: ["test://static-text"],
        });
        return seen;
      }));
      bus.publish({ kind: "tools_list_changed" });
      bus.publish({ kind: "resource_updated", uri: "test://static-text" });
      await eventually(() => heard.every((seen) => seen.length === 2));
      assert.deepEqual(heard, [["tools", "test://static-text"], ["tools", "test://static-text"]]);
    });
  });
}

Deno.test("SQS: the reserved trace-context keys reach the tool unchanged, the return address does not", async () => {
  await withBroker(async (context) => {
    const probe = newV2Probe();
    const setup = await sqsEras.setup(context, {
      createServer: (serverContext) => createV2TestServer(probe, serverContext),
    });
    const client = await connectV2Client(context, setup);
    const trace = {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "congo=t61rcWkgMzE",
      baggage: "userId=alice",
    };
    await client.callTool({ name: "meta", arguments: {}, _meta: trace });
    const seen = probe.metas.at(-1)!;
    for (const [key, value] of Object.entries(trace)) assert.equal(seen[key], value, key);
    assert.equal(seen.responseQueueUrl, undefined);
  });
});

Deno.test("SQS: a 2026-07-28 request without a return address is logged, deleted and not held", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const { server, events } = await startSqsServer(context, requests.url);
    await sendRaw(
      context.sqs,
      requests.url,
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/list",
        params: { _meta: envelope() },
      }),
      pythonAttributes({ ClientId: "c" }),
    );
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" &&
        /no return address in params._meta.responseQueueUrl/.test(String(event.fields.reason))
      )
    );
    await eventually(async () => (await messagesOn(context.sqs, requests.url)) === 0);
    assert.equal(server.status.inFlightRequests, 0);
  });
});

Deno.test("Webhook: a 2026-07-28 request without a webhook URL is refused with 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Client-ID": "c" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/list",
        params: { _meta: envelope() },
      }),
    });
    assert.equal(response.status, 400);
    assert.match(
      (await response.json()).error.message,
      /no return address in params._meta.webhookUrl/,
    );
  });
});

Deno.test("SQS: an initialize carrying the 2026-07-28 envelope is answered -32601 like any method that revision lacks, and opens no session", async () => {
  await withBroker(async (context) => {
    const setup = await sqsEras.setup(context, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const client = await rawModernClient(await setup.transport());
    context.cleanup(() => client.close());
    // The SDK's era rule: a valid modern envelope makes any method modern, initialize too.
    const answer = await client.request("initialize", {
      protocolVersion: MODERN,
      capabilities: {},
      clientInfo: { name: "raw", version: "1.0.0" },
    });
    assert.equal(answer.error?.code, -32601, JSON.stringify(answer));
    assert.equal(setup.server.status.sessions, 0);
  });
});

Deno.test("SQS: a 2026-07-28 request naming a revision the server does not serve gets -32022 at its address", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const { server } = await startSqsServer(context, requests.url, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    await sendRaw(
      context.sqs,
      requests.url,
      JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/list",
        params: {
          _meta: {
            ...envelope(),
            "io.modelcontextprotocol/protocolVersion": "2099-01-01",
            responseQueueUrl: replies.url,
          },
        },
      }),
      pythonAttributes({ ClientId: "c" }),
    );
    const answer = await receiveOne(context.sqs, replies.url);
    const error = answer.json.error as { code: number; data: { supported: string[] } };
    assert.equal(error.code, -32022);
    assert.deepEqual(error.data.supported, [MODERN]);
    assert.equal(answer.json.id, 7);
    assert.equal(answer.attributes.ClientId.StringValue, "c");
    assert.equal(answer.attributes.SessionId, undefined);
    await eventually(() => server.status.inFlightRequests === 0);
  });
});

Deno.test("SQS: a 2026-07-28 request that also names a session is refused as mixing eras", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const { server, events } = await startSqsServer(context, requests.url, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    await sendRaw(
      context.sqs,
      requests.url,
      JSON.stringify({
        jsonrpc: "2.0",
        id: 8,
        method: "tools/list",
        params: { _meta: { ...envelope(), responseQueueUrl: replies.url } },
      }),
      pythonAttributes({ ClientId: "c", SessionId: "a".repeat(32) }),
    );
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" &&
        /carries no session id/.test(String(event.fields.reason))
      )
    );
    await eventually(async () => (await messagesOn(context.sqs, requests.url)) === 0);
    assert.equal(server.status.inFlightRequests, 0);
  });
});

Deno.test("SQS: a change the server has no capability for, published on the bus, is logged and the next one still reaches the subscription", async () => {
  await withBroker(async (context) => {
    const bus = new InMemoryServerEventBus();
    // Resources only: announcing a tools change is refused by the SDK.
    const resourcesOnly = () => {
      const server = new McpServer({ name: "resources-only", version: "1.0.0" });
      server.registerResource(
        "note",
        "test://note",
        {},
        () => ({ contents: [{ uri: "test://note", text: "hello" }] }),
      );
      return server;
    };
    const setup = await sqsEras.setup(context, { bus, createServer: resourcesOnly });
    const client = createV2TestClient();
    let changes = 0;
    client.setNotificationHandler("notifications/resources/list_changed", () => void changes++);
    await connectV2Client(context, setup, client);
    await client.listen({ resourcesListChanged: true });
    bus.publish({ kind: "tools_list_changed" });
    bus.publish({ kind: "resources_list_changed" });
    await eventually(() => changes === 1);
    await eventually(() =>
      setup.events.some((event) =>
        event.event === "listen.notify_failed" && /tools/i.test(String(event.fields.error))
      )
    );
  });
});
