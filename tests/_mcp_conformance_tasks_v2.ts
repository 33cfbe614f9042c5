/**
 * The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) for the v2 conformance server,
 * by hand: SDK 2.4.0 has no tasks support, so `tasks/get`, `tasks/update` and `tasks/cancel` are
 * registered with explicit schemas and the task tools answer `tools/call` with a
 * `CreateTaskResult` themselves. Written from the suite's `tasks-*` scenario descriptions.
 *
 * A task outlives the request that created it (the 2026-07-28 entry builds a server per
 * request), so tasks live in a {@linkcode TaskStore} shared by every server.
 *
 * @module
 */

import {
  acceptedContent,
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type InputRequests,
  inputRequired,
  type InputRequiredResult,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type Server,
  type ServerContext,
  type Tool,
} from "@modelcontextprotocol/server";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";

/** The extension's identifier, under `capabilities.extensions`. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** How long a task stays readable after it is created. */
const TASK_TTL_MS = 600_000;
/** How often clients are told to poll `tasks/get`. */
const POLL_INTERVAL_MS = 200;

type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

/** What a task's job can do while it runs. */
export interface TaskRun {
  /** Aborted when the task is cancelled. */
  signal: AbortSignal;
  /**
   * Parks the task in `input_required` until every request has an answer (`tasks/update` may
   * answer them one at a time); resolves with the answers, keyed like the requests.
   */
  ask(requests: InputRequests): Promise<Record<string, unknown>>;
}

/** The work behind a task: a tool result, or a thrown error (a protocol-level failure). */
export type TaskJob = (run: TaskRun) => Promise<CallToolResult>;

interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  createdAt: string;
  lastUpdatedAt: string;
  result?: CallToolResult;
  error?: { code: number; message: string; data?: unknown };
  /** Input requests still unanswered. */
  pending: InputRequests;
  answers: Record<string, unknown>;
  /** Resolves the job's current `ask`, once nothing is pending. */
  resume?: () => void;
  abort: AbortController;
  /** Forgets the task when its TTL ends. */
  expiry: ReturnType<typeof setTimeout>;
}

/** The tasks of every server the factory builds, kept in memory for their TTL. */
export class TaskStore {
  #tasks = new Map<string, TaskRecord>();

  /** Creates a task, starts its job and returns the `CreateTaskResult`. */
  start(job: TaskJob): Record<string, unknown> {
    const now = new Date().toISOString();
    const taskId = crypto.randomUUID();
    const task: TaskRecord = {
      taskId,
      status: "working",
      createdAt: now,
      lastUpdatedAt: now,
      pending: {},
      answers: {},
      abort: new AbortController(),
      expiry: setTimeout(() => this.#tasks.delete(taskId), TASK_TTL_MS),
    };
    this.#tasks.set(taskId, task);
    const run: TaskRun = {
      signal: task.abort.signal,
      ask: (requests) => {
        task.pending = { ...requests };
        this.#set(task, "input_required");
        return new Promise((resolve) => {
          task.resume = () => resolve(task.answers);
        });
      },
    };
    job(run).then(
      (result) => {
        task.result = result;
        this.#set(task, "completed");
      },
      (error: unknown) => {
        task.error = error instanceof ProtocolError
          ? { code: error.code, message: error.message, data: error.data }
          : { code: ProtocolErrorCode.InternalError, message: String(error) };
        this.#set(task, "failed");
      },
    );
    return { resultType: "task", ...this.#info(task) };
  }

  /** The task as `tasks/get` shows it: status, then its input requests, result or error. */
  detail(taskId: string): Record<string, unknown> {
    const task = this.#find(taskId);
    return {
      ...this.#info(task),
      ...(task.status === "input_required" && { inputRequests: task.pending }),
      ...(task.status === "completed" && { result: task.result }),
      ...(task.status === "failed" && { error: task.error }),
    };
  }

  /** Records answers to pending input requests; the job resumes once none is left. */
  answer(taskId: string, responses: Record<string, unknown>): void {
    const task = this.#find(taskId);
    if (task.status !== "input_required") return;
    for (const [key, response] of Object.entries(responses)) {
      if (!(key in task.pending)) continue;
      task.answers[key] = response;
      delete task.pending[key];
    }
    if (Object.keys(task.pending).length > 0) return;
    this.#set(task, "working");
    task.resume?.();
  }

  /** Cancels a task that has not ended; cancelling an ended task changes nothing. */
  cancel(taskId: string): void {
    const task = this.#find(taskId);
    if (task.status !== "working" && task.status !== "input_required") return;
    this.#set(task, "cancelled");
    task.abort.abort();
  }

  /** Cancels every running task and forgets them all. */
  close(): void {
    for (const task of this.#tasks.values()) {
      this.cancel(task.taskId);
      clearTimeout(task.expiry);
    }
    this.#tasks.clear();
  }

  #find(taskId: string): TaskRecord {
    const task = this.#tasks.get(taskId);
    if (task === undefined) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task: ${taskId}`, {
        taskId,
      });
    }
    return task;
  }

  #set(task: TaskRecord, status: TaskStatus): void {
    // A cancelled task stays cancelled, whatever its job does next.
    if (task.status === "cancelled") return;
    task.status = status;
    task.lastUpdatedAt = new Date().toISOString();
  }

  #info(task: TaskRecord) {
    return {
      taskId: task.taskId,
      status: task.status,
      createdAt: task.createdAt,
      lastUpdatedAt: task.lastUpdatedAt,
      ttlMs: TASK_TTL_MS,
      pollIntervalMs: POLL_INTERVAL_MS,
    };
  }
}

/** A tool of the tasks scenarios. */
interface TaskTool {
  description: string;
  inputSchema: Tool["inputSchema"];
  /** Whether a call becomes a task: `optional` runs inline for clients without the extension. */
  taskSupport: "forbidden" | "optional" | "required";
  /**
   * The tool's work. A tool may first gather input synchronously (`input_required`), and only
   * then return the job to run as a task.
   */
  call(
    args: Record<string, unknown>,
    ctx: ServerContext,
  ): CallToolResult | InputRequiredResult | TaskJob;
}

const text = (value: string): CallToolResult => ({ content: [{ type: "text", text: value }] });
const object = <P extends Record<string, unknown>>(properties: P) => ({
  type: "object" as const,
  properties,
});
const confirmation = (message: string) =>
  inputRequired.elicit({
    message,
    requestedSchema: {
      type: "object",
      properties: { confirm: { type: "boolean" } },
      required: ["confirm"],
    },
  });
const accepted = (answer: unknown) =>
  typeof answer === "object" && answer !== null && "action" in answer &&
  answer.action === "accept";

/** The tools the tasks scenarios call, by name. */
export const TASK_TOOLS: Record<string, TaskTool> = {
  greet: {
    description: "Greets someone, at once (never a task)",
    inputSchema: { ...object({ name: { type: "string" } }), required: ["name"] },
    taskSupport: "forbidden",
    call: (args) => text(`Hello, ${args.name}!`),
  },
  slow_compute: {
    description: "Computes for `seconds` seconds; a task for clients with the extension",
    inputSchema: object({ seconds: { type: "number" }, label: { type: "string" } }),
    taskSupport: "optional",
    call: (args) => async ({ signal }) => {
      await delay(Number(args.seconds ?? 0) * 1000, undefined, { signal });
      return text(`Computed ${args.label ?? "result"} after ${args.seconds ?? 0}s`);
    },
  },
  failing_job: {
    description: "A task whose tool reports an error",
    inputSchema: object({}),
    taskSupport: "required",
    call: () => async ({ signal }) => {
      await delay(100, undefined, { signal });
      return { isError: true, ...text("The job failed on purpose") };
    },
  },
  protocol_error_job: {
    description: "A task that fails with a protocol-level error",
    inputSchema: object({}),
    taskSupport: "required",
    call: () => async ({ signal }) => {
      await delay(100, undefined, { signal });
      throw new ProtocolError(ProtocolErrorCode.InternalError, "The job crashed on purpose");
    },
  },
  confirm_delete: {
    description: "A task that asks for confirmation before deleting a file",
    inputSchema: { ...object({ filename: { type: "string" } }), required: ["filename"] },
    taskSupport: "required",
    call: (args) => async ({ ask }) => {
      const answers = await ask({ confirm: confirmation(`Delete ${args.filename}?`) });
      return text(`${args.filename} ${accepted(answers.confirm) ? "deleted" : "kept"}`);
    },
  },
  multi_input: {
    description: "A task that asks two questions at once",
    inputSchema: object({}),
    taskSupport: "required",
    call: () => async ({ ask }) => {
      const answers = await ask({
        first: confirmation("First question?"),
        second: confirmation("Second question?"),
      });
      return text(`Answered: ${Object.keys(answers).sort().join(", ")}`);
    },
  },
  test_tool_with_task: {
    description: "Asks a name (input_required), then works on it as a task",
    inputSchema: object({}),
    taskSupport: "required",
    call: (_args, ctx) => {
      const answer = acceptedContent(
        ctx.mcpReq.inputResponses,
        "user_name",
        z.object({ name: z.string() }),
      );
      if (answer === undefined) {
        return inputRequired({
          inputRequests: {
            user_name: inputRequired.elicit({
              message: "What is your name?",
              requestedSchema: {
                type: "object",
                properties: { name: { type: "string" } },
                required: ["name"],
              },
            }),
          },
        });
      }
      return async ({ signal }) => {
        await delay(100, undefined, { signal });
        return text(`Task finished for ${answer.name}`);
      };
    },
  },
};

/** The tools/list entries of the task tools. */
export function taskToolList(): Tool[] {
  return Object.entries(TASK_TOOLS).map(([name, tool]) => ({
    name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    execution: { taskSupport: tool.taskSupport },
  }));
}

/**
 * The capabilities the client declared: on the request itself (2026-07-28), or at `initialize`
 * (2025 sessions).
 */
export function clientCapabilitiesOf(server: Server, ctx: ServerContext): ClientCapabilities {
  // `envelope` is typed `Partial<RequestMetaEnvelope>`, an empty interface in SDK 2.4.0.
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  return (envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined) ??
    server.getClientCapabilities() ?? {};
}

/** Whether the request's client declared the tasks extension. */
function declaresTasks(server: Server, ctx: ServerContext): boolean {
  return clientCapabilitiesOf(server, ctx).extensions?.[TASKS_EXTENSION] !== undefined;
}

function requireTasks(server: Server, ctx: ServerContext): void {
  if (!declaresTasks(server, ctx)) {
    throw new MissingRequiredClientCapabilityError({
      requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
    });
  }
}

/**
 * Calls a task tool: at once, as a new task, or refused (-32021) when the tool needs a task and
 * the client did not declare the extension.
 */
export async function callTaskTool(
  server: Server,
  store: TaskStore,
  name: string,
  args: Record<string, unknown>,
  ctx: ServerContext,
): Promise<CallToolResult | InputRequiredResult> {
  const tool = TASK_TOOLS[name];
  const tasks = tool.taskSupport !== "forbidden" && declaresTasks(server, ctx);
  if (tool.taskSupport === "required") requireTasks(server, ctx);
  const outcome = tool.call(args, ctx);
  if (typeof outcome !== "function") return outcome;
  if (!tasks) {
    return await outcome({
      signal: ctx.mcpReq.signal,
      ask: () => Promise.reject(new Error("Cannot ask for input outside a task")),
    });
  }
  // A CreateTaskResult is neither of the SDK's tools/call result types; it goes out as written.
  return store.start(outcome) as unknown as CallToolResult;
}

/** Registers `tasks/get`, `tasks/update` and `tasks/cancel`, for clients with the extension. */
export function registerTaskMethods(server: Server, store: TaskStore): void {
  const byId = z.object({ taskId: z.string() }).passthrough();
  server.setRequestHandler("tasks/get", { params: byId }, ({ taskId }, ctx) => {
    requireTasks(server, ctx);
    return store.detail(taskId);
  });
  // The SDK lifts `inputResponses` out of the params into `ctx.mcpReq.inputResponses`.
  server.setRequestHandler("tasks/update", { params: byId }, ({ taskId }, ctx) => {
    requireTasks(server, ctx);
    store.answer(taskId, ctx.mcpReq.inputResponses ?? {});
    return {};
  });
  server.setRequestHandler("tasks/cancel", { params: byId }, ({ taskId }, ctx) => {
    requireTasks(server, ctx);
    store.cancel(taskId);
    return {};
  });
}
