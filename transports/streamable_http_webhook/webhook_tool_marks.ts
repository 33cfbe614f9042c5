/**
 * How a StreamableHTTP+Webhook server shows clients which tools answer by webhook: a mark in the
 * tool's `_meta`, set in its definition or added to `tools/list` results for the tools the server
 * names in `webhookTools`, in both eras.
 *
 * @module
 */

import type { JSONRPCMessage } from "../../sdk.ts";

/**
 * The `_meta` key that marks a tool whose results are delivered by webhook: set it to `"webhook"`
 * in the tool's definition, or name the tool in the server's `webhookTools`; `tools/list` shows
 * it to clients either way.
 *
 * @example Declare a webhook tool in its definition
 * ```ts
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { DELIVERY_META_KEY } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const server = new McpServer({ name: "example", version: "1.0.0" });
 * server.registerTool("report", {
 *   description: "Builds a long report",
 *   _meta: { [DELIVERY_META_KEY]: "webhook" },
 * }, () => ({ content: [{ type: "text", text: "done" }] }));
 * ```
 */
export const DELIVERY_META_KEY = "asyncmcp/delivery";

/** A tool as `tools/list` lists it, as far as marks go. */
interface ListedTool {
  name?: unknown;
  _meta?: Record<string, unknown>;
}

/** The tools of a `tools/list` result, or undefined when `message` is not one. */
function toolsOf(message: JSONRPCMessage): ListedTool[] | undefined {
  if (!("result" in message)) return undefined;
  const tools = (message.result as { tools?: unknown }).tools;
  return Array.isArray(tools) ? tools : undefined;
}

/** The names of the tools a `tools/list` result marks for webhook delivery in their definition. */
export function markedTools(message: JSONRPCMessage): string[] {
  return (toolsOf(message) ?? [])
    .filter((tool) => tool._meta?.[DELIVERY_META_KEY] === "webhook")
    .map((tool) => String(tool.name));
}

/** The `tools/list` result with the tools named in `webhookTools` marked too. */
export function withWebhookMarks(
  message: JSONRPCMessage,
  webhookTools: ReadonlySet<string>,
): JSONRPCMessage {
  const tools = toolsOf(message);
  if (!tools || webhookTools.size === 0) return message;
  const marked = tools.map((tool) =>
    webhookTools.has(String(tool.name)) && tool._meta?.[DELIVERY_META_KEY] !== "webhook"
      ? { ...tool, _meta: { ...tool._meta, [DELIVERY_META_KEY]: "webhook" } }
      : tool
  );
  const result = (message as { result: Record<string, unknown> }).result;
  return { ...message, result: { ...result, tools: marked } } as JSONRPCMessage;
}
