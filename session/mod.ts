/**
 * The transport-independent core of asyncmcp: envelopes and their codec, the session host
 * (server side), the client transport, reply routing and session stores. Use it to build a
 * transport of your own; the ready-made ones are in the `./sqs` (and other) subpaths.
 *
 * @example Decode a message as a server would
 * ```ts
 * import { decodeAttributes } from "@asyncmcp/asyncmcp/session";
 *
 * const incoming = decodeAttributes('{"jsonrpc":"2.0","id":1,"method":"ping"}', {});
 * console.log(incoming.ok);
 * ```
 *
 * @module
 */

export * from "./envelope.ts";
export * from "./envelope_codec.ts";
export * from "./errors.ts";
export * from "./inbox.ts";
export * from "./outbox.ts";
export * from "./logger.ts";
export * from "./address_policy.ts";
export * from "./return_address.ts";
export * from "./session_store.ts";
export * from "./session_transport.ts";
export * from "./session_host.ts";
export * from "./reply_router.ts";
export * from "./client_transport.ts";
