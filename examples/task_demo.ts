/**
 * A long job as an MCP task (spec 2025-11-25, the SDK's experimental tasks API) over Streamable
 * HTTP + webhook on loopback: the call returns a task at once, the job's status changes are pushed
 * to the client's webhook as it works, and `tasks/result` is answered there when the job is done,
 * without polling. Exits 0.
 *
 * Usage: `deno run --allow-net examples/task_demo.ts`
 *
 * @module
 */

import { z } from "zod";
import {
  CallToolResultSchema,
  Client,
  InMemoryTaskMessageQueue,
  InMemoryTaskStore,
  McpServer,
  TaskStatusNotificationSchema,
} from "../sdk.ts";
import {
  StreamableHttpWebhookClientTransport,
  StreamableHttpWebhookServer,
} from "../transports/streamable_http_webhook/mod.ts";
import { webhookUrlPolicy } from "../transports/webhook/mod.ts";

const taskStore = new InMemoryTaskStore();

function createServer(): McpServer {
  const server = new McpServer({ name: "task-demo", version: "1.0.0" }, {
    capabilities: { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } },
    taskStore,
    taskMessageQueue: new InMemoryTaskMessageQueue(),
  });
  server.experimental.tasks.registerToolTask("build_report", {
    description: "Builds a report in `chapters` steps; runs as a task.",
    inputSchema: { chapters: z.number().int().min(1).max(20) },
    execution: { taskSupport: "required" },
  }, {
    async createTask({ chapters }, { taskStore, taskRequestedTtl }) {
      const task = await taskStore.createTask({
        ttl: taskRequestedTtl ?? 60_000,
        pollInterval: 100,
      });
      // The job goes on after this call has returned the task.
      (async () => {
        for (let chapter = 1; chapter <= chapters; chapter++) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          await taskStore.updateTaskStatus(
            task.taskId,
            "working",
            `chapter ${chapter} of ${chapters}`,
          );
        }
        await taskStore.storeTaskResult(task.taskId, "completed", {
          content: [{ type: "text", text: `report of ${chapters} chapters` }],
        });
      })();
      return { task };
    },
    getTask: async (_args, { taskId, taskStore }) => await taskStore.getTask(taskId),
    getTaskResult: async (_args, { taskId, taskStore }) =>
      await taskStore.getTaskResult(taskId) as { content: Array<{ type: "text"; text: string }> },
  });
  return server;
}

const server = new StreamableHttpWebhookServer({
  createServer,
  // The demo's client listens on 127.0.0.1, which the default address policy refuses.
  addressPolicy: webhookUrlPolicy({ allowHosts: ["127.0.0.1"] }),
});
const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
const transport = new StreamableHttpWebhookClientTransport({
  serverUrl: `http://127.0.0.1:${http.addr.port}/mcp`,
  listen: true,
  perSessionSecret: true,
});
const client = new Client({ name: "task-demo-client", version: "1.0.0" });
await client.connect(transport);
client.setNotificationHandler(TaskStatusNotificationSchema, ({ params }) => {
  console.log(`  pushed to the webhook: ${params.status} (${params.statusMessage ?? ""})`);
});

const started = performance.now();
const elapsed = () => `${(performance.now() - started).toFixed(0)} ms`;
const stream = client.experimental.tasks.callToolStream(
  { name: "build_report", arguments: { chapters: 3 } },
  CallToolResultSchema,
  { task: { ttl: 60_000 } },
);
const { value: created } = await stream.next();
// Only the task is wanted from the stream: the rest comes by webhook, without polling.
await stream.return(undefined);
if (created?.type !== "taskCreated") throw new Error(`Expected a task, got ${created?.type}`);
const { task } = created;
console.log(`task ${task.taskId} created (${elapsed()}); the call has returned`);
// tasks/result waits for the job to end; its answer comes by webhook, so no HTTP stream is held
// open and nothing polls.
const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
console.log(`result (${elapsed()}): ${JSON.stringify(result.content)}`);

await client.close();
await server.close();
await http.shutdown();
taskStore.cleanup();
console.log("done");
