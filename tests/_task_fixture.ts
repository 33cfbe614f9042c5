/**
 * MCP tasks (spec 2025-11-25, the SDK's experimental tasks API) as every transport's tests use
 * them: a server whose `long_job` tool runs as a task, and one scenario that drives a task from
 * creation to result, and another that cancels one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import {
  CallToolResultSchema,
  type Client,
  InMemoryTaskMessageQueue,
  InMemoryTaskStore,
  McpServer,
  TaskStatusNotificationSchema,
} from "../sdk.ts";
import { eventually } from "./_fixture.ts";

/** What the task tests share with their servers. */
export interface TaskTestContext {
  store: InMemoryTaskStore;
  /** Jobs still running (a cancelled one stops at its next step). */
  running: number;
  /** Set when the test ends: jobs still running stop at their next step. */
  stopped: boolean;
}

/**
 * A fresh store and job count; `done()` stops the jobs still running (a test that failed may
 * leave some), waits for them and clears the store's timers.
 */
export function newTaskContext(): TaskTestContext & { done(): Promise<void> } {
  const context = {
    store: new InMemoryTaskStore(),
    running: 0,
    stopped: false,
    async done() {
      context.stopped = true;
      try {
        await eventually(() => context.running === 0);
      } finally {
        context.store.cleanup();
      }
    },
  };
  return context;
}

/** A server with task support: `long_job` works `steps` steps of `stepMs` as a task. */
export function createTaskTestServer(context: TaskTestContext): McpServer {
  const store = context.store;
  const server = new McpServer({ name: "asyncmcp-tasks", version: "1.0.0" }, {
    capabilities: { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } },
    taskStore: store,
    taskMessageQueue: new InMemoryTaskMessageQueue(),
  });
  server.experimental.tasks.registerToolTask("long_job", {
    inputSchema: { steps: z.number().int(), stepMs: z.number().int() },
    execution: { taskSupport: "required" },
  }, {
    async createTask({ steps, stepMs }, { taskStore, taskRequestedTtl }) {
      const task = await taskStore.createTask({
        ttl: taskRequestedTtl ?? 60_000,
        pollInterval: 50,
      });
      // The job runs on after the call has returned its task: that is what tasks are for.
      context.running++;
      (async () => {
        for (let step = 1; step <= steps; step++) {
          await new Promise((resolve) => setTimeout(resolve, stepMs));
          const current = await taskStore.getTask(task.taskId);
          if (current.status === "cancelled" || context.stopped) return;
          await taskStore.updateTaskStatus(task.taskId, "working", `step ${step} of ${steps}`);
        }
        await taskStore.storeTaskResult(task.taskId, "completed", {
          content: [{ type: "text", text: `job of ${steps} steps done` }],
        });
      })().catch(() => {}).finally(() => context.running--);
      return { task };
    },
    getTask: async (_args, { taskId, taskStore }) => await taskStore.getTask(taskId),
    getTaskResult: async (_args, { taskId, taskStore }) =>
      await taskStore.getTaskResult(taskId) as { content: Array<{ type: "text"; text: string }> },
  });
  return server;
}

/**
 * Runs `long_job` as a task: the client sees it created, its status pushed as it works, and its
 * result; tasks/get, tasks/list and tasks/result agree.
 */
export async function taskRunsToCompletion(client: Client): Promise<void> {
  const pushed: string[] = [];
  client.setNotificationHandler(TaskStatusNotificationSchema, (notification) => {
    pushed.push(`${notification.params.status}: ${notification.params.statusMessage ?? ""}`);
  });
  const seen: string[] = [];
  let taskId: string | undefined;
  let text: string | undefined;
  for await (
    const message of client.experimental.tasks.callToolStream(
      { name: "long_job", arguments: { steps: 2, stepMs: 20 } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    )
  ) {
    seen.push(message.type);
    if (message.type === "taskCreated") taskId = message.task.taskId;
    if (message.type === "result") {
      text = (message.result.content[0] as { text: string }).text;
    }
    if (message.type === "error") throw message.error;
  }
  assert.equal(seen[0], "taskCreated");
  assert.equal(seen.at(-1), "result");
  assert.equal(text, "job of 2 steps done");
  const task = await client.experimental.tasks.getTask(taskId!);
  assert.equal(task.status, "completed");
  const { tasks } = await client.experimental.tasks.listTasks();
  assert.ok(tasks.some((listed) => listed.taskId === taskId));
  const result = await client.experimental.tasks.getTaskResult(taskId!, CallToolResultSchema);
  assert.equal((result.content[0] as { text: string }).text, "job of 2 steps done");
  await eventually(() => pushed.some((status) => status.startsWith("completed")));
  assert.ok(pushed.includes("working: step 1 of 2"), `status notifications: ${pushed}`);
}

/** Creates a long task, cancels it with tasks/cancel, and sees it cancelled. */
export async function taskIsCancelled(client: Client): Promise<void> {
  const stream = client.experimental.tasks.callToolStream(
    { name: "long_job", arguments: { steps: 1000, stepMs: 20 } },
    CallToolResultSchema,
    { task: { ttl: 60_000 } },
  );
  const first = await stream.next();
  assert.equal(first.value?.type, "taskCreated");
  const { taskId } = (first.value as { task: { taskId: string } }).task;
  await stream.return(undefined);
  const cancelled = await client.experimental.tasks.cancelTask(taskId);
  assert.equal(cancelled.status, "cancelled");
  assert.equal((await client.experimental.tasks.getTask(taskId)).status, "cancelled");
}
