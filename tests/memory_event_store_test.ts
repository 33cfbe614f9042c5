import assert from "node:assert/strict";
import type { JSONRPCMessage } from "../sdk.ts";
import { MemoryEventStore, UnknownEventError } from "../transports/http/memory_event_store.ts";

const ping = (id: number): JSONRPCMessage => ({ jsonrpc: "2.0", id, method: "ping" });

async function replay(store: MemoryEventStore, after: string) {
  const sent: Array<[string, JSONRPCMessage]> = [];
  const streamId = await store.replayEventsAfter(after, {
    send: (eventId, message) => Promise.resolve(void sent.push([eventId, message])),
  });
  return { streamId, sent };
}

Deno.test("MemoryEventStore replays, in order, only the later events of the same stream", async () => {
  const store = new MemoryEventStore();
  const first = await store.storeEvent("a", ping(1));
  await store.storeEvent("b", ping(2));
  const third = await store.storeEvent("a", ping(3));
  const { streamId, sent } = await replay(store, first);
  assert.equal(streamId, "a");
  assert.deepEqual(sent, [[third, ping(3)]]);
});

Deno.test("MemoryEventStore drops its oldest events beyond maxEvents", async () => {
  const store = new MemoryEventStore({ maxEvents: 2 });
  const first = await store.storeEvent("a", ping(1));
  await store.storeEvent("a", ping(2));
  await store.storeEvent("a", ping(3));
  assert.equal(store.size, 2);
  assert.equal(await store.getStreamIdForEventId(first), undefined);
});

Deno.test("MemoryEventStore refuses to resume after an event it does not hold with UnknownEventError", async () => {
  const store = new MemoryEventStore();
  await assert.rejects(replay(store, "42"), (error: unknown) => {
    assert.ok(error instanceof UnknownEventError);
    assert.match(error.message, /reconnect without Last-Event-ID/);
    return true;
  });
});

Deno.test("MemoryEventStore refuses a maxEvents below 1", () => {
  assert.throws(() => new MemoryEventStore({ maxEvents: 0 }), RangeError);
});
