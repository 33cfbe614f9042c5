/**
 * Runs the embedded broker (fauxqs) as its own process: prints `{"port":N}` on the first line of
 * standard output and stops when standard input closes, so it never outlives its parent.
 *
 * @module
 */

import { listenFauxqs } from "./loopback_fauxqs.ts";

const server = await listenFauxqs();
console.log(JSON.stringify({ port: server.port }));
// Reading until end of input: the parent closing our stdin (or dying) is the signal to stop.
for await (const _ of Deno.stdin.readable) { /* keep reading */ }
await server.stop();
Deno.exit(0);
