/**
 * The MCP server that the conformance suite's server scenarios expect
 * (`@modelcontextprotocol/conformance` 0.1.16): its tools, resources, prompts, completion and
 * logging, written from the scenarios' descriptions. Built on the SDK's low-level `Server`, so
 * that tool schemas go out exactly as written (the JSON Schema 2020-12 scenario checks that).
 *
 * @module
 */

import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  Server,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "../sdk.ts";
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

const noArguments = { type: "object", properties: {} } as const;

const TOOLS = [
  { name: "test_simple_text", description: "Returns simple text", inputSchema: noArguments },
  { name: "test_image_content", description: "Returns a PNG image", inputSchema: noArguments },
  { name: "test_audio_content", description: "Returns a WAV clip", inputSchema: noArguments },
  {
    name: "test_embedded_resource",
    description: "Returns an embedded resource",
    inputSchema: noArguments,
  },
  {
    name: "test_multiple_content_types",
    description: "Returns text, an image and a resource",
    inputSchema: noArguments,
  },
  {
    name: "test_tool_with_logging",
    description: "Logs three messages while it runs",
    inputSchema: noArguments,
  },
  {
    name: "test_tool_with_progress",
    description: "Reports progress 0, 50 and 100 of 100",
    inputSchema: noArguments,
  },
  { name: "test_error_handling", description: "Always fails", inputSchema: noArguments },
  {
    name: "test_sampling",
    description: "Asks the client's LLM",
    inputSchema: {
      type: "object",
      properties: { prompt: { type: "string" } },
      required: ["prompt"],
    },
  },
  {
    name: "test_elicitation",
    description: "Asks the user for a name and an email address",
    inputSchema: {
      type: "object",
      properties: { message: { type: "string" } },
      required: ["message"],
    },
  },
  {
    name: "test_elicitation_sep1034_defaults",
    description: "Asks the user with defaults for every primitive type",
    inputSchema: noArguments,
  },
  {
    name: "test_elicitation_sep1330_enums",
    description: "Asks the user with every kind of enum",
    inputSchema: noArguments,
  },
  {
    name: "test_reconnection",
    description: "Closes its SSE stream mid-call; the result comes after the client reconnects",
    inputSchema: noArguments,
  },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: {
          type: "object",
          properties: { street: { type: "string" }, city: { type: "string" } },
        },
      },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
  },
];

const text = (value: string) => ({ content: [{ type: "text", text: value }] });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes a fresh conformance server (one per session). */
export function createConformanceServer(): Server {
  const server = new Server({ name: "asyncmcp-conformance", version: "1.0.0" }, {
    capabilities: {
      tools: {},
      resources: { subscribe: true },
      prompts: {},
      logging: {},
      completions: {},
    },
  });
  const subscriptions = new Set<string>();

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    // Requests to the client go on the call's own stream, as the scenarios expect: a client
    // need not have opened its GET stream yet.
    const related = { relatedRequestId: extra.requestId };
    const fixed = FIXED_TOOL_RESULTS[request.params.name];
    if (fixed !== undefined) return fixed;
    switch (request.params.name) {
      case "test_tool_with_logging": {
        const log = (data: string) =>
          extra.sendNotification({
            method: "notifications/message",
            params: { level: "info", data },
          });
        await log("Tool execution started");
        await pause(50);
        await log("Tool processing data");
        await pause(50);
        await log("Tool execution completed");
        return text("Logging tool finished");
      }
      case "test_tool_with_progress": {
        const progressToken = request.params._meta?.progressToken;
        for (const [index, progress] of [0, 50, 100].entries()) {
          if (index > 0) await pause(50);
          if (progressToken !== undefined) {
            await extra.sendNotification({
              method: "notifications/progress",
              params: { progressToken, progress, total: 100 },
            });
          }
        }
        return text("Progress tool finished");
      }
      case "test_sampling": {
        const answer = await server.createMessage({
          messages: [{ role: "user", content: { type: "text", text: String(args.prompt) } }],
          maxTokens: 100,
        }, related);
        const reply = answer.content.type === "text" ? answer.content.text : answer.content.type;
        return text(`LLM response: ${reply}`);
      }
      case "test_elicitation": {
        const answer = await server.elicitInput({
          message: String(args.message),
          requestedSchema: USER_DETAILS_FORM,
        }, related);
        return text(
          `User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`,
        );
      }
      case "test_elicitation_sep1034_defaults": {
        const answer = await server.elicitInput({
          message: "Please confirm your details",
          requestedSchema: SEP1034_DEFAULTS_FORM,
        }, related);
        return text(
          `Elicitation completed: action=${answer.action}, content=${
            JSON.stringify(answer.content ?? {})
          }`,
        );
      }
      case "test_elicitation_sep1330_enums": {
        const answer = await server.elicitInput(
          {
            message: "Please pick options",
            requestedSchema: SEP1330_ENUMS_FORM,
          } as Parameters<typeof server.elicitInput>[0],
          related,
        );
        return text(
          `Elicitation completed: action=${answer.action}, content=${
            JSON.stringify(answer.content ?? {})
          }`,
        );
      }
      case "test_reconnection":
        // The client must reconnect with Last-Event-ID to get what follows (SEP-1699).
        extra.closeSSEStream?.();
        await pause(100);
        return text("Reconnection test finished");
      case "json_schema_2020_12_tool":
        return text(`Received ${JSON.stringify(args)}`);
      default:
        throw new McpError(-32602, `Unknown tool: ${request.params.name}`);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [RESOURCE_TEMPLATE],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    const { uri } = request.params;
    const contents = resourceContents(uri);
    if (contents === undefined) throw new McpError(-32002, `Resource not found: ${uri}`);
    return { contents };
  });
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const messages = promptMessages(request.params.name, request.params.arguments ?? {});
    if (messages === undefined) {
      throw new McpError(-32602, `Unknown prompt: ${request.params.name}`);
    }
    return { messages };
  });
  server.setRequestHandler(CompleteRequestSchema, (request) => {
    const prefix = request.params.argument.value;
    const values = ["paris", "park", "party"].filter((value) => value.startsWith(prefix));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  server.setRequestHandler(SetLevelRequestSchema, () => ({}));
  return server;
}
