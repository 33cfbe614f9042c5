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

/** A 1×1 red PNG. */
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/** A WAV header with no samples: the smallest well-formed audio file. */
const WAV = btoa(
  String.fromCharCode(
    ...new TextEncoder().encode("RIFF"),
    36,
    0,
    0,
    0,
    ...new TextEncoder().encode("WAVEfmt "),
    16,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    0x40,
    0x1f,
    0,
    0,
    0x80,
    0x3e,
    0,
    0,
    2,
    0,
    16,
    0,
    ...new TextEncoder().encode("data"),
    0,
    0,
    0,
    0,
  ),
);

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
    switch (request.params.name) {
      case "test_simple_text":
        return text("This is a simple text response for testing.");
      case "test_image_content":
        return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
      case "test_audio_content":
        return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
      case "test_embedded_resource":
        return {
          content: [{
            type: "resource",
            resource: {
              uri: "test://embedded-resource",
              mimeType: "text/plain",
              text: "This is an embedded resource content.",
            },
          }],
        };
      case "test_multiple_content_types":
        return {
          content: [
            { type: "text", text: "Multiple content types test:" },
            { type: "image", data: PNG, mimeType: "image/png" },
            {
              type: "resource",
              resource: {
                uri: "test://mixed-content-resource",
                mimeType: "application/json",
                text: JSON.stringify({ test: "data", value: 123 }),
              },
            },
          ],
        };
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
      case "test_error_handling":
        return { isError: true, ...text("This tool intentionally returns an error for testing") };
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
          requestedSchema: {
            type: "object",
            properties: {
              username: { type: "string", description: "User's response" },
              email: { type: "string", description: "User's email address" },
            },
            required: ["username", "email"],
          },
        }, related);
        return text(
          `User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`,
        );
      }
      case "test_elicitation_sep1034_defaults": {
        const answer = await server.elicitInput({
          message: "Please confirm your details",
          requestedSchema: {
            type: "object",
            properties: {
              name: { type: "string", default: "John Doe" },
              age: { type: "integer", default: 30 },
              score: { type: "number", default: 95.5 },
              status: {
                type: "string",
                enum: ["active", "inactive", "pending"],
                default: "active",
              },
              verified: { type: "boolean", default: true },
            },
          },
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
            requestedSchema: {
              type: "object",
              properties: {
                untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
                titledSingle: {
                  type: "string",
                  oneOf: [
                    { const: "value1", title: "First Option" },
                    { const: "value2", title: "Second Option" },
                    { const: "value3", title: "Third Option" },
                  ],
                },
                legacyEnum: {
                  type: "string",
                  enum: ["opt1", "opt2", "opt3"],
                  enumNames: ["Option One", "Option Two", "Option Three"],
                },
                untitledMulti: {
                  type: "array",
                  items: { type: "string", enum: ["option1", "option2", "option3"] },
                },
                titledMulti: {
                  type: "array",
                  items: {
                    anyOf: [
                      { const: "value1", title: "First Choice" },
                      { const: "value2", title: "Second Choice" },
                      { const: "value3", title: "Third Choice" },
                    ],
                  },
                },
              },
            },
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

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [
      {
        uri: "test://static-text",
        name: "static-text",
        description: "A static text resource",
        mimeType: "text/plain",
      },
      {
        uri: "test://static-binary",
        name: "static-binary",
        description: "A static PNG resource",
        mimeType: "image/png",
      },
      {
        uri: "test://watched-resource",
        name: "watched-resource",
        description: "A resource that can be subscribed to",
        mimeType: "text/plain",
      },
    ],
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [{
      uriTemplate: "test://template/{id}/data",
      name: "template-data",
      description: "Data for an id",
      mimeType: "application/json",
    }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    const { uri } = request.params;
    if (uri === "test://static-text") {
      return {
        contents: [{
          uri,
          mimeType: "text/plain",
          text: "This is the content of the static text resource.",
        }],
      };
    }
    if (uri === "test://static-binary") {
      return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
    }
    if (uri === "test://watched-resource") {
      return { contents: [{ uri, mimeType: "text/plain", text: "Watched resource content." }] };
    }
    const id = uri.match(/^test:\/\/template\/([^/]+)\/data$/)?.[1];
    if (id !== undefined) {
      return {
        contents: [{
          uri,
          mimeType: "application/json",
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        }],
      };
    }
    throw new McpError(-32002, `Resource not found: ${uri}`);
  });
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: [
      { name: "test_simple_prompt", description: "A prompt without arguments" },
      {
        name: "test_prompt_with_arguments",
        description: "A prompt with two arguments",
        arguments: [
          { name: "arg1", description: "First test argument", required: true },
          { name: "arg2", description: "Second test argument", required: true },
        ],
      },
      {
        name: "test_prompt_with_embedded_resource",
        description: "A prompt that embeds a resource",
        arguments: [{ name: "resourceUri", description: "The resource to embed", required: true }],
      },
      { name: "test_prompt_with_image", description: "A prompt with an image" },
    ],
  }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const args = request.params.arguments ?? {};
    const user = (content: Record<string, unknown>) => ({ role: "user" as const, content });
    switch (request.params.name) {
      case "test_simple_prompt":
        return {
          messages: [user({ type: "text", text: "This is a simple prompt for testing." })],
        };
      case "test_prompt_with_arguments":
        return {
          messages: [user({
            type: "text",
            text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`,
          })],
        };
      case "test_prompt_with_embedded_resource":
        return {
          messages: [
            user({
              type: "resource",
              resource: {
                uri: args.resourceUri,
                mimeType: "text/plain",
                text: "Embedded resource content for testing.",
              },
            }),
            user({ type: "text", text: "Please process the embedded resource above." }),
          ],
        };
      case "test_prompt_with_image":
        return {
          messages: [
            user({ type: "image", data: PNG, mimeType: "image/png" }),
            user({ type: "text", text: "Please analyze the image above." }),
          ],
        };
      default:
        throw new McpError(-32602, `Unknown prompt: ${request.params.name}`);
    }
  });
  server.setRequestHandler(CompleteRequestSchema, (request) => {
    const prefix = request.params.argument.value;
    const values = ["paris", "park", "party"].filter((value) => value.startsWith(prefix));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  server.setRequestHandler(SetLevelRequestSchema, () => ({}));
  return server;
}
