/**
 * Where a client's return address lives in `initialize`, and how to put it there.
 *
 * @module
 */

import type { JSONRPCMessage } from "../sdk.ts";

/** The two spellings of one transport's return address in `initialize` params (README: Wire format). */
export interface ReturnAddressKey {
  /** The key in `params._meta`, e.g. `responseQueueUrl`. */
  meta: string;
  /** The legacy top-level `params` key of asyncmcp 0.2.x, e.g. `response_queue_url`. */
  legacy?: string;
  /**
   * The `params._meta` key of a secret that goes with the return address (`webhookSecret`). It
   * is taken out of `initialize` before the MCP server sees it, and kept with the session.
   */
  secret?: string;
}

/**
 * Reads the return address from an `initialize` request: `params._meta[key.meta]`, else the
 * legacy `params[key.legacy]`. Returns undefined when neither is a non-empty string.
 *
 * @example
 * ```ts
 * import { readReturnAddress } from "./return_address.ts";
 *
 * const address = readReturnAddress(
 *   { jsonrpc: "2.0", id: 0, method: "initialize", params: { response_queue_url: "https://q" } },
 *   { meta: "responseQueueUrl", legacy: "response_queue_url" },
 * );
 * console.log(address); // "https://q"
 * ```
 */
export function readReturnAddress(
  initialize: JSONRPCMessage,
  key: ReturnAddressKey,
): string | undefined {
  const params = "params" in initialize
    ? initialize.params as Record<string, unknown> | undefined
    : undefined;
  const meta = params?._meta as Record<string, unknown> | undefined;
  const fromMeta = meta?.[key.meta];
  if (typeof fromMeta === "string" && fromMeta !== "") return fromMeta;
  const legacy = key.legacy ? params?.[key.legacy] : undefined;
  if (typeof legacy === "string" && legacy !== "") return legacy;
  return undefined;
}

/**
 * Returns a copy of `initialize` with `params._meta` extended by `fields`; the original is left
 * untouched because the SDK keeps a reference to it.
 *
 * @example
 * ```ts
 * import { withMeta } from "./return_address.ts";
 *
 * const message = withMeta(
 *   { jsonrpc: "2.0", id: 0, method: "initialize", params: {} },
 *   { responseQueueUrl: "https://q" },
 * );
 * ```
 */
export function withMeta(
  initialize: JSONRPCMessage,
  fields: Record<string, string>,
): JSONRPCMessage {
  const params = ("params" in initialize ? initialize.params : undefined) ?? {};
  const meta = (params as { _meta?: Record<string, unknown> })._meta ?? {};
  return { ...initialize, params: { ...params, _meta: { ...meta, ...fields } } } as JSONRPCMessage;
}

/**
 * Takes the return address's secret out of an `initialize` request: returns the request without
 * it (a copy; the original is untouched) and the secret, when `key.secret` names one that is set.
 *
 * @example
 * ```ts
 * import { takeReturnSecret } from "./return_address.ts";
 *
 * const { message, secret } = takeReturnSecret(
 *   { jsonrpc: "2.0", id: 0, method: "initialize", params: { _meta: { webhookSecret: "s3cret" } } },
 *   { meta: "webhookUrl", secret: "webhookSecret" },
 * );
 * console.log(secret); // "s3cret"
 * ```
 */
export function takeReturnSecret(
  initialize: JSONRPCMessage,
  key: ReturnAddressKey,
): { message: JSONRPCMessage; secret?: string } {
  const params = "params" in initialize
    ? initialize.params as Record<string, unknown> | undefined
    : undefined;
  const meta = params?._meta as Record<string, unknown> | undefined;
  if (key.secret === undefined || meta === undefined || !(key.secret in meta)) {
    return { message: initialize };
  }
  const { [key.secret]: secret, ...rest } = meta;
  return {
    message: { ...initialize, params: { ...params, _meta: rest } } as JSONRPCMessage,
    secret: typeof secret === "string" && secret !== "" ? secret : undefined,
  };
}

/**
 * The `params._meta` of a message (or of any parsed body), when it has one.
 *
 * @example
 * ```ts
 * import { metaOf } from "./return_address.ts";
 *
 * console.log(metaOf({ jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: { a: 1 } } })); // { a: 1 }
 * ```
 */
export function metaOf(message: unknown): Record<string, unknown> | undefined {
  return (message as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
}

/**
 * The message without its return address and the address's secret in `params._meta` (a copy;
 * the message itself when it carries neither): the MCP server sees neither.
 *
 * @example
 * ```ts
 * import { withoutReturnAddress } from "./return_address.ts";
 *
 * const message = withoutReturnAddress(
 *   { jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: { webhookUrl: "https://h" } } },
 *   { meta: "webhookUrl", secret: "webhookSecret" },
 * );
 * console.log(message); // { jsonrpc: "2.0", id: 1, method: "ping", params: { _meta: {} } }
 * ```
 */
export function withoutReturnAddress<T>(message: T, key: ReturnAddressKey): T {
  const meta = metaOf(message);
  if (!meta || (!(key.meta in meta) && (!key.secret || !(key.secret in meta)))) return message;
  const { [key.meta]: _address, ...rest } = meta;
  if (key.secret) delete rest[key.secret];
  const params = (message as { params: Record<string, unknown> }).params;
  return { ...message, params: { ...params, _meta: rest } };
}
