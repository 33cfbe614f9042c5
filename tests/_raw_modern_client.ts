/**
 * A 2026-07-28 client made of raw JSON-RPC over an asyncmcp client transport, for what the SDK's
 * client cannot send (the tasks extension in 2.4.0) or hides (its first request's error).
 *
 * @module
 */

import type { JSONRPCMessage } from "../sdk.ts";
import type { ClientTransport } from "../session/client_transport.ts";

const MODERN = "2026-07-28";

/** The `_meta` a 2026-07-28 client puts on every request. */
export function envelope(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": capabilities,
  };
}

/**
 * A 2026-07-28 client without the SDK's client (which has no tasks extension in 2.4.0): sends
 * requests with the envelope through an asyncmcp client transport and returns their answers.
 */
export async function rawModernClient(transport: ClientTransport, capabilities = {}) {
  const pending = new Map<string | number, (message: JSONRPCMessage) => void>();
  transport.onmessage = (message) => {
    const id = (message as { id?: string | number }).id;
    if (id !== undefined && !("method" in message)) pending.get(id)?.(message);
  };
  await transport.start();
  let next = 0;
  return {
    async request(method: string, params: Record<string, unknown> = {}) {
      const id = `raw-${next++}`;
      const { promise, resolve } = Promise.withResolvers<JSONRPCMessage>();
      pending.set(id, resolve);
      await transport.send({
        jsonrpc: "2.0",
        id,
        method,
        params: { ...params, _meta: envelope(capabilities) },
      } as JSONRPCMessage);
      const answer = await promise;
      pending.delete(id);
      return answer as {
        result?: Record<string, unknown>;
        error?: { code: number; message: string };
      };
    },
    close: () => transport.close(),
  };
}
