/**
 * The MCP server that the conformance suite's server scenarios expect, on SDK v2: one factory
 * serving both eras (`@modelcontextprotocol/conformance` 0.2.0-alpha.12 at the 2026-07-28 wire,
 * 0.1.16 on 2025-11-25 sessions), written from the scenarios' descriptions.
 *
 * Built on the SDK's low-level `Server`, like the v1 fixture: tool schemas go out exactly as
 * written, and the `tools/call` dispatcher can refuse a call with a protocol error (McpServer
 * turns every error a tool throws into an `isError` result, so the tasks extension's -32021
 * could not be sent from a tool registered there).
 *
 * Handlers are written once for both eras. What needs the client (elicitation, sampling, roots)
 * returns `inputRequired(...)`: on 2026-07-28 the client fulfils the embedded requests and
 * retries; on a 2025 session the SDK's legacy shim sends them as real server→client requests and
 * re-enters the handler. State that outlives one request (the bus `subscriptions/listen` streams
 * read, the key that signs `requestState`, the tasks) lives in a {@linkcode ConformanceStateV2}
 * outside the factory, since the 2026-07-28 entry builds a fresh server for every request.
 *
 * @module
 */

import {
  acceptedContent,
  type CallToolResult,
  createRequestStateCodec,
  type GetPromptResult,
  InMemoryServerEventBus,
  type InputRequests,
  inputRequired,
  type InputRequiredResult,
  inputResponse,
  type McpRequestContext,
  ProtocolError,
  ProtocolErrorCode,
  type RequestStateCodec,
  ResourceNotFoundError,
  Server,
  type ServerContext,
  type Tool as McpTool,
} from "@modelcontextprotocol/server";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import {
  FIXED_TOOL_RESULTS,
  promptMessages,
  PROMPTS,
  RESOURCE_TEMPLATE,
  resourceContents,
  RESOURCES,
  SEP1034_DEFAULTS_FORM,
  SEP1330_ENUMS_FORM,
  USER_DETAILS_FORM,
} from "./_mcp_conformance_data.ts";
import {
  callTaskTool,
  clientCapabilitiesOf,
  registerTaskMethods,
  TASK_TOOLS,
  TASKS_EXTENSION,
  TaskStore,
  taskToolList,
} from "./_mcp_conformance_tasks_v2.ts";

/** What `requestState` carries between rounds (signed, so the client cannot alter it). */
interface RoundState {
  tool: string;
  step: number;
  name?: string;
}

/** State shared by every server the factory builds. */
export interface ConformanceStateV2 {
  /**
   * The bus `subscriptions/listen` streams read: pass it to `createMcpHandler` as `bus`. The
   * `test_trigger_*` tools publish their changes on it.
   */
  bus: InMemoryServerEventBus;
  /** Signs and checks `requestState` (HMAC-SHA-256 under a random key). */
  requestState: RequestStateCodec<RoundState>;
  /** The tasks extension's tasks. */
  tasks: TaskStore;
}

/** Makes fresh shared state: a bus, a random signing key, no tasks. */
export function newConformanceStateV2(): ConformanceStateV2 {
  return {
    bus: new InMemoryServerEventBus(),
    requestState: createRequestStateCodec<RoundState>({
      key: crypto.getRandomValues(new Uint8Array(32)),
    }),
    tasks: new TaskStore(),
  };
}

/** What the factory is told: the SDK's request context, plus the state to share. */
export interface ConformanceContextV2 extends Partial<McpRequestContext> {
  /** Shared state; without it the module's own default state is used. */
  state?: ConformanceStateV2;
}

const DEFAULT_STATE = newConformanceStateV2();

type ToolResult = CallToolResult | InputRequiredResult;

/** One tool: what `tools/list` says about it and what a call does. */
interface Tool {
  description: string;
  /** @default {a schema with no properties} */
  inputSchema?: McpTool["inputSchema"];
  call(args: Record<string, unknown>, call: ToolCall): ToolResult | Promise<ToolResult>;
}

/** What a tool call can reach besides its arguments. */
interface ToolCall {
  ctx: ServerContext;
  server: Server;
  state: ConformanceStateV2;
  /** The era the factory was told it builds for (none: a server connected by hand). */
  era?: "legacy" | "modern";
}

const text = (value: string): CallToolResult => ({ content: [{ type: "text", text: value }] });
/** An object schema, for tool arguments or an elicitation's form. */
const object = <P extends Record<string, unknown>>(properties: P, required: string[] = []) => ({
  type: "object" as const,
  properties,
  ...(required.length > 0 && { required }),
});
const NO_ARGUMENTS = object({});

/** An elicitation asking for one string field. */
const askString = (message: string, field: string) =>
  inputRequired.elicit({
    message,
    requestedSchema: object({ [field]: { type: "string" as const } }, [field]),
  });
const askConfirmation = (message: string) =>
  inputRequired.elicit({
    message,
    requestedSchema: object({ ok: { type: "boolean" as const } }, ["ok"]),
  });
const sample = (prompt: string, maxTokens: number) =>
  inputRequired.createMessage({
    messages: [{ role: "user", content: { type: "text", text: prompt } }],
    maxTokens,
  });
const named = z.object({ name: z.string() });

/** Asks one elicitation, then reports the answer as `<prefix>: action=…, content=…`. */
function elicited(
  { ctx }: ToolCall,
  prefix: string,
  request: Parameters<typeof inputRequired.elicit>[0],
): ToolResult {
  const answer = inputResponse(ctx.mcpReq.inputResponses, "answer");
  if (answer.kind !== "elicit") {
    return inputRequired({ inputRequests: { answer: inputRequired.elicit(request) } });
  }
  return text(
    `${prefix}: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`,
  );
}

/** Logs three messages 50 ms apart. The SDK sends them only to a client that asked for logs. */
async function logThrice({ ctx }: ToolCall): Promise<ToolResult> {
  await ctx.mcpReq.log("info", "Tool execution started");
  await delay(50);
  await ctx.mcpReq.log("info", "Tool processing data");
  await delay(50);
  await ctx.mcpReq.log("info", "Tool execution completed");
  return text("Logging tool finished");
}

/**
 * Announces a list change: on 2026-07-28 to the `subscriptions/listen` streams (the bus), on a
 * 2025 session to the session itself.
 */
async function announce(
  { server, state, era }: ToolCall,
  list: "tools" | "prompts",
): Promise<ToolResult> {
  if (era === "modern") {
    state.bus.publish({ kind: list === "tools" ? "tools_list_changed" : "prompts_list_changed" });
  } else {
    await (list === "tools" ? server.sendToolListChanged() : server.sendPromptListChanged());
  }
  return text(`The ${list} list changed`);
}

/** Asks the user's name (`user_name`), then greets them. */
function greetByName({ ctx }: ToolCall): ToolResult {
  const answer = acceptedContent(ctx.mcpReq.inputResponses, "user_name", named);
  if (answer !== undefined) return text(`Hello, ${answer.name}!`);
  return inputRequired({ inputRequests: { user_name: askString("What is your name?", "name") } });
}

/** A tool that keeps signed state between rounds and ends when `ok` is confirmed. */
async function confirmWithState(
  { ctx, state }: ToolCall,
  tool: string,
  done: string,
): Promise<ToolResult> {
  const round = ctx.mcpReq.requestState<RoundState>();
  const answer = acceptedContent(
    ctx.mcpReq.inputResponses,
    "confirm",
    z.object({ ok: z.boolean() }),
  );
  if (round?.tool === tool && answer !== undefined) return text(`${done}: ok=${answer.ok}`);
  return inputRequired({
    inputRequests: { confirm: askConfirmation("Please confirm") },
    requestState: await state.requestState.mint({ tool, step: 1 }),
  });
}

/** What `tools/list` says about the tools that return `FIXED_TOOL_RESULTS`. */
const FIXED_TOOL_DESCRIPTIONS: Record<keyof typeof FIXED_TOOL_RESULTS, string> = {
  test_simple_text: "Returns simple text",
  test_image_content: "Returns a PNG image",
  test_audio_content: "Returns a WAV clip",
  test_embedded_resource: "Returns an embedded resource",
  test_multiple_content_types: "Returns text, an image and a resource",
  test_error_handling: "Always fails",
};

/** The other tools, by name (the tasks scenarios' tools are in `TASK_TOOLS`). */
const TOOLS: Record<string, Tool> = {
  test_tool_with_progress: {
    description: "Reports progress 0, 50 and 100 of 100",
    call: async (_args, { ctx }) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const [index, progress] of [0, 50, 100].entries()) {
        if (index > 0) await delay(50);
        if (progressToken === undefined) continue;
        await ctx.mcpReq.notify({
          method: "notifications/progress",
          params: { progressToken, progress, total: 100 },
        });
      }
      return text("Progress tool finished");
    },
  },
  // Logs only when asked: `logging/setLevel` on a 2025 session, `_meta.logLevel` on 2026-07-28.
  test_tool_with_logging: {
    description: "Logs three messages while it runs",
    call: (_args, call) => logThrice(call),
  },
  test_logging_tool: {
    description: "Logs three messages while it runs, if the request asked for logs",
    call: (_args, call) => logThrice(call),
  },
  test_sampling: {
    description: "Asks the client's LLM",
    inputSchema: object({ prompt: { type: "string" } }, ["prompt"]),
    call: (args, { ctx }) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "llm");
      if (answer.kind !== "sampling") {
        return inputRequired({ inputRequests: { llm: sample(String(args.prompt), 100) } });
      }
      const content = answer.result.content;
      const reply = !Array.isArray(content) && content.type === "text"
        ? content.text
        : JSON.stringify(content);
      return text(`LLM response: ${reply}`);
    },
  },
  test_elicitation: {
    description: "Asks the user for a name and an email address",
    inputSchema: object({ message: { type: "string" } }, ["message"]),
    call: (args, call) =>
      elicited(call, "User response", {
        message: String(args.message),
        requestedSchema: USER_DETAILS_FORM,
      }),
  },
  test_elicitation_sep1034_defaults: {
    description: "Asks the user with defaults for every primitive type",
    call: (_args, call) =>
      elicited(call, "Elicitation completed", {
        message: "Please confirm your details",
        requestedSchema: SEP1034_DEFAULTS_FORM,
      }),
  },
  test_elicitation_sep1330_enums: {
    description: "Asks the user with every kind of enum",
    call: (_args, call) =>
      elicited(call, "Elicitation completed", {
        message: "Please pick options",
        requestedSchema: SEP1330_ENUMS_FORM,
      }),
  },
  json_schema_2020_12_tool: {
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: {
          $anchor: "addressDef",
          type: "object",
          properties: { street: { type: "string" }, city: { type: "string" } },
        },
      },
      properties: {
        name: { type: "string" },
        address: { $ref: "#/$defs/address" },
        contactMethod: { type: "string", enum: ["phone", "email"] },
        phone: { type: "string" },
        email: { type: "string" },
      },
      allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
      if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
      then: { required: ["phone"] },
      else: { required: ["email"] },
      additionalProperties: false,
    },
    call: (args) => text(`Received ${JSON.stringify(args)}`),
  },
  // SEP-2322: multi round-trip requests.
  test_input_required_result_elicitation: {
    description: "Asks the user's name, then greets them",
    call: (_args, call) => greetByName(call),
  },
  test_input_required_result_sampling: {
    description: "Asks the client's LLM a question",
    call: (_args, { ctx }) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "capital_question");
      if (answer.kind === "sampling") {
        return text(`The LLM answered: ${JSON.stringify(answer.result.content)}`);
      }
      return inputRequired({
        inputRequests: { capital_question: sample("What is the capital of France?", 100) },
      });
    },
  },
  test_input_required_result_list_roots: {
    description: "Asks for the client's roots",
    call: (_args, { ctx }) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, "client_roots");
      if (answer.kind === "roots") {
        return text(`Roots: ${answer.roots.map((root) => root.uri).join(", ")}`);
      }
      return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    },
  },
  test_input_required_result_request_state: {
    description: "Asks for a confirmation, keeping signed state between rounds",
    call: (_args, call) => confirmWithState(call, "request_state", "state-ok"),
  },
  test_input_required_result_tampered_state: {
    description: "Keeps signed state between rounds; altered state is refused (-32602)",
    // The server's `requestState.verify` refuses a bad signature before this handler runs.
    call: (_args, call) => confirmWithState(call, "tampered_state", "state verified"),
  },
  test_input_required_result_multiple_inputs: {
    description: "Asks an elicitation, a sampling and the roots at once",
    call: async (_args, { ctx, state }) => {
      const responses = ctx.mcpReq.inputResponses;
      const name = acceptedContent(responses, "user_name", named);
      const greeting = inputResponse(responses, "greeting");
      const roots = inputResponse(responses, "client_roots");
      const round = ctx.mcpReq.requestState<RoundState>();
      if (
        round?.tool === "multiple_inputs" && name !== undefined && greeting.kind === "sampling" &&
        roots.kind === "roots"
      ) {
        return text(`${name.name}: a greeting and ${roots.roots.length} root(s) received`);
      }
      return inputRequired({
        inputRequests: {
          user_name: askString("What is your name?", "name"),
          greeting: sample("Generate a greeting", 50),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await state.requestState.mint({ tool: "multiple_inputs", step: 1 }),
      });
    },
  },
  test_input_required_result_multi_round: {
    description: "Asks a name, then a colour, in two rounds",
    call: async (_args, { ctx, state }) => {
      const round = ctx.mcpReq.requestState<RoundState>();
      const responses = ctx.mcpReq.inputResponses;
      const ours = round?.tool === "multi_round";
      const name = ours && round.step === 1
        ? acceptedContent(responses, "step1", named)?.name
        : ours
        ? round.name
        : undefined;
      if (name === undefined) {
        return inputRequired({
          inputRequests: { step1: askString("Step 1: What is your name?", "name") },
          requestState: await state.requestState.mint({ tool: "multi_round", step: 1 }),
        });
      }
      const color = ours && round.step === 2
        ? acceptedContent(responses, "step2", z.object({ color: z.string() }))?.color
        : undefined;
      if (color !== undefined) return text(`${name} likes ${color}`);
      return inputRequired({
        inputRequests: { step2: askString("Step 2: What is your favorite color?", "color") },
        requestState: await state.requestState.mint({ tool: "multi_round", step: 2, name }),
      });
    },
  },
  test_input_required_result_capabilities: {
    description: "Asks only what the client declared it can answer",
    call: (_args, call) => {
      const declared = clientCapabilitiesOf(call.server, call.ctx);
      const responses = call.ctx.mcpReq.inputResponses;
      const inputRequests: InputRequests = {};
      if (declared.sampling && inputResponse(responses, "llm").kind !== "sampling") {
        inputRequests.llm = sample("Say hello", 50);
      }
      if (declared.elicitation && inputResponse(responses, "user_name").kind !== "elicit") {
        inputRequests.user_name = askString("What is your name?", "name");
      }
      if (Object.keys(inputRequests).length > 0) return inputRequired({ inputRequests });
      return text("Every declared capability was asked");
    },
  },
  // SEP-2575 (server-stateless) diagnostics.
  test_missing_capability: {
    description: "Needs sampling: refused (-32021) when the client did not declare it",
    call: (_args, { ctx }) => {
      if (inputResponse(ctx.mcpReq.inputResponses, "llm").kind === "sampling") {
        return text("Sampling answered");
      }
      // The SDK refuses an input request the client cannot answer with -32021.
      return inputRequired({ inputRequests: { llm: sample("Say hello", 50) } });
    },
  },
  test_streaming_elicitation: {
    description: "Asks the user through input_required, never with a request on the stream",
    call: (_args, call) => greetByName(call),
  },
  test_trigger_tool_change: {
    description: "Announces that the tool list changed",
    call: (_args, call) => announce(call, "tools"),
  },
  test_trigger_prompt_change: {
    description: "Announces that the prompt list changed",
    call: (_args, call) => announce(call, "prompts"),
  },
};

/** The prompt that asks the user for context first (SEP-2322 on a request other than a tool). */
const INPUT_REQUIRED_PROMPT = {
  name: "test_input_required_result_prompt",
  description: "A prompt that asks the user for context first",
};

/** Answers `prompts/get`. */
function getPrompt(
  name: string,
  args: Record<string, string>,
  ctx: ServerContext,
): GetPromptResult | InputRequiredResult {
  if (name === INPUT_REQUIRED_PROMPT.name) {
    const answer = acceptedContent(
      ctx.mcpReq.inputResponses,
      "user_context",
      z.object({ context: z.string() }),
    );
    if (answer === undefined) {
      return inputRequired({
        inputRequests: {
          user_context: askString("What context should the prompt use?", "context"),
        },
      });
    }
    return {
      messages: [{
        role: "user",
        content: { type: "text", text: `Use this context: ${answer.context}` },
      }],
    };
  }
  const messages = promptMessages(name, args);
  if (messages === undefined) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  }
  return { messages };
}

/**
 * Makes a conformance server for one request (2026-07-28) or one session (2025-11-25).
 *
 * @example Serving both eras over HTTP with the SDK's own entry
 * ```ts ignore
 * const state = newConformanceStateV2();
 * const handler = createMcpHandler(
 *   (ctx) => createConformanceServerV2({ ...ctx, state }),
 *   { bus: state.bus },
 * );
 * ```
 */
export function createConformanceServerV2(context: ConformanceContextV2 = {}): Server {
  const state = context.state ?? DEFAULT_STATE;
  const server = new Server({ name: "asyncmcp-conformance-v2", version: "2.0.0" }, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      logging: {},
      completions: {},
      extensions: { [TASKS_EXTENSION]: {} },
    },
    // 2026-07-28 results carry caching hints; the SDK's default is `ttlMs: 0`, `private`.
    cacheHints: {
      "tools/list": { ttlMs: 60_000, cacheScope: "public" },
      "prompts/list": { ttlMs: 60_000, cacheScope: "public" },
      "resources/list": { ttlMs: 60_000, cacheScope: "public" },
      "resources/templates/list": { ttlMs: 60_000, cacheScope: "public" },
    },
    requestState: { verify: (value, ctx) => state.requestState.verify(value, ctx) },
  });

  server.setRequestHandler("tools/list", () => ({
    tools: [
      ...Object.entries(FIXED_TOOL_DESCRIPTIONS).map(([name, description]) => ({
        name,
        description,
        inputSchema: NO_ARGUMENTS,
      })),
      ...Object.entries(TOOLS).map(([name, tool]) => ({
        name,
        description: tool.description,
        inputSchema: tool.inputSchema ?? NO_ARGUMENTS,
      })),
      ...taskToolList(),
    ],
  }));
  server.setRequestHandler("tools/call", (request, ctx) => {
    const { name, arguments: args = {} } = request.params;
    if (name in FIXED_TOOL_RESULTS) return FIXED_TOOL_RESULTS[name];
    if (name in TASK_TOOLS) return callTaskTool(server, state.tasks, name, args, ctx);
    const tool = TOOLS[name];
    if (tool === undefined) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    return tool.call(args, { ctx, server, state, era: context.era });
  });
  registerTaskMethods(server, state.tasks);

  server.setRequestHandler("resources/list", () => ({ resources: RESOURCES }));
  server.setRequestHandler("resources/templates/list", () => ({
    resourceTemplates: [RESOURCE_TEMPLATE],
  }));
  server.setRequestHandler("resources/read", (request) => {
    const { uri } = request.params;
    const contents = resourceContents(uri);
    // -32602 with the URI in `data` (SEP-2164), on both eras.
    if (contents === undefined) throw new ResourceNotFoundError(uri);
    return { contents };
  });
  // 2025 sessions only: on 2026-07-28 these methods no longer exist (the SDK answers -32601)
  // and resource updates travel on `subscriptions/listen`.
  const subscriptions = new Set<string>();
  server.setRequestHandler("resources/subscribe", (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler("resources/unsubscribe", (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler("prompts/list", () => ({
    prompts: [...PROMPTS, INPUT_REQUIRED_PROMPT],
  }));
  server.setRequestHandler(
    "prompts/get",
    (request, ctx) => getPrompt(request.params.name, request.params.arguments ?? {}, ctx),
  );
  server.setRequestHandler("completion/complete", (request) => {
    const { ref, argument } = request.params;
    const values = ref.type === "ref/prompt" && ref.name === "test_prompt_with_arguments" &&
        argument.name === "arg1"
      ? ["paris", "park", "party"].filter((value) => value.startsWith(argument.value))
      : [];
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}
