/**
 * An in-memory event store for Streamable HTTP resumability: what a session's SSE streams sent,
 * kept so that a client that lost a stream can resume it with `Last-Event-ID`.
 *
 * @module
 */

import type { EventStore, JSONRPCMessage } from "../../sdk.ts";

/** Options for {@linkcode MemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /** Events kept; the oldest go first. @default {1000} */
  maxEvents?: number;
}

/**
 * Thrown by {@linkcode MemoryEventStore.replayEventsAfter} for an id it no longer holds.
 *
 * @example
 * ```ts
 * import { MemoryEventStore, UnknownEventError } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const store = new MemoryEventStore();
 * await store.replayEventsAfter("42", { send: async () => {} }).catch((error) => {
 *   console.log(error instanceof UnknownEventError); // true
 * });
 * ```
 */
export class UnknownEventError extends Error {
  /** Creates the error for `eventId`. */
  constructor(eventId: string) {
    super(
      `Cannot resume after event ${eventId} as it is unknown or was dropped: reconnect without ` +
        "Last-Event-ID, or keep more events (maxEvents)",
    );
    this.name = "UnknownEventError";
  }
}

/**
 * Keeps the last `maxEvents` events of one session, in order. One store per session: its event
 * ids are unique within it, and a session's events go when the session does.
 *
 * @example Give the SDK's Streamable HTTP transport resumability
 * ```ts
 * import { WebStandardStreamableHTTPServerTransport } from "@asyncmcp/asyncmcp/sdk";
 * import { MemoryEventStore } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const transport = new WebStandardStreamableHTTPServerTransport({
 *   sessionIdGenerator: () => crypto.randomUUID(),
 *   eventStore: new MemoryEventStore({ maxEvents: 500 }),
 * });
 * ```
 */
export class MemoryEventStore implements EventStore {
  readonly #maxEvents: number;
  /** Events by id, oldest first (a Map keeps insertion order). */
  readonly #events = new Map<string, { streamId: string; message: JSONRPCMessage }>();
  #next = 0;

  /** Creates an empty store. */
  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 1000;
    if (!(Number.isInteger(this.#maxEvents) && this.#maxEvents >= 1)) {
      throw new RangeError(
        `Cannot create event store as 'maxEvents' must be a whole number of at least 1: current value is ${this.#maxEvents}`,
      );
    }
  }

  /** How many events are held. */
  get size(): number {
    return this.#events.size;
  }

  /** Stores `message` as the next event of `streamId`; returns its id. */
  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const eventId = String(++this.#next);
    this.#events.set(eventId, { streamId, message });
    if (this.#events.size > this.#maxEvents) {
      this.#events.delete(this.#events.keys().next().value!);
    }
    return Promise.resolve(eventId);
  }

  /** The stream an event belongs to, if the event is still held. */
  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return Promise.resolve(this.#events.get(eventId)?.streamId);
  }

  /**
   * Sends, in order, every event of `lastEventId`'s stream that came after it; returns the
   * stream's id.
   *
   * @throws {UnknownEventError} when `lastEventId` is not held (never stored, or dropped).
   */
  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const last = this.#events.get(lastEventId);
    if (!last) throw new UnknownEventError(lastEventId);
    const after = Number(lastEventId);
    // Copied first: sending may store new events while this runs.
    const replay = [...this.#events].filter(([id, event]) =>
      Number(id) > after && event.streamId === last.streamId
    );
    for (const [id, event] of replay) await send(id, event.message);
    return last.streamId;
  }
}
