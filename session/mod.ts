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

export {
  type Envelope,
  errorResponse,
  type Incoming,
  type InvalidEnvelope,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  type Routing,
} from "./envelope.ts";
export {
  ATTRIBUTE,
  decodeAttributes,
  decodeHeaders,
  decodeParsed,
  encodeAttributes,
  encodedSize,
  encodeHeaders,
  HEADER,
  type MessageAttribute,
  type MessageAttributes,
  queueSafeJson,
  routingOfAttributes,
  routingOfHeaders,
} from "./envelope_codec.ts";
export {
  BrokerError,
  type BrokerErrorDetails,
  DeliveryFailedError,
  MessageRefusedError,
  MessageTooLargeError,
  TransportClosedError,
} from "./errors.ts";
export type { DeliveryHandler, Inbox, InboxDelivery, InboxErrorHandler } from "./inbox.ts";
export type { Outbox, SendOptions } from "./outbox.ts";
export {
  consoleLogger,
  type ConsoleLoggerOptions,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.ts";
export { type AddressPolicy, type AddressVerdict, allowAddresses } from "./address_policy.ts";
export type { ReturnAddressKey } from "./return_address.ts";
export { MemorySessionStore, type SessionRecord, type SessionStore } from "./session_store.ts";
export { type KvLike, KvSessionStore, type KvSessionStoreOptions } from "./kv_session_store.ts";
export {
  type ConnectableServer,
  type ListChange,
  type ServerFactoryContext,
  type SessionEnder,
  SessionHost,
  type SessionHostOptions,
  type SessionHostStatus,
  type SessionOptions,
} from "./session_host.ts";
export { HostedServer } from "./hosted_server.ts";
export { type ReplyRoute, ReplyRouter, type ReplyRouterOptions } from "./reply_router.ts";
export { ClientTransport, type ClientTransportOptions } from "./client_transport.ts";
