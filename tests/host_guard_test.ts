import assert from "node:assert/strict";
import { hostGuard } from "../transports/http/host_guard.ts";

const request = (host: string, origin?: string) =>
  new Request(`http://${host}/mcp`, {
    headers: { Host: host, ...(origin ? { Origin: origin } : {}) },
  });

Deno.test("hostGuard lets the loopback names in, with any port, by default", () => {
  const guard = hostGuard();
  for (const host of ["localhost:3000", "127.0.0.1", "[::1]:8080"]) {
    assert.equal(guard(request(host)), undefined, host);
  }
});

Deno.test("hostGuard answers 403 to an Origin that is not listed in allowedOrigins", async () => {
  const guard = hostGuard({ allowedOrigins: ["http://localhost:6274"] });
  assert.equal(guard(request("127.0.0.1:3000", "http://localhost:6274")), undefined);
  const refused = guard(request("127.0.0.1:3000", "http://localhost:9999"));
  assert.equal(refused?.status, 403);
  assert.match((await refused!.json()).error.message, /allowedOrigins/);
});

Deno.test("hostGuard refuses hosts that merely start or end with an allowed name", () => {
  const guard = hostGuard({ allowedHosts: ["mcp.example.com"] });
  for (
    const host of [
      "mcp.example.com.evil.example",
      "evilmcp.example.com",
      "mcp.example.co",
      "xmcp.example.com:443",
      "mcp.example.com.:443",
    ]
  ) {
    assert.equal(guard(request(host))?.status, 403, host);
  }
  const loopback = hostGuard();
  for (const host of ["localhost.evil.example", "127.0.0.1.nip.io:80", "evil-localhost"]) {
    assert.equal(loopback(request(host))?.status, 403, host);
  }
});

Deno.test("hostGuard serves the names listed in allowedHosts and refuses the loopback ones then", () => {
  const guard = hostGuard({ allowedHosts: ["mcp.example.com"] });
  assert.equal(guard(request("MCP.example.com:443")), undefined);
  assert.equal(guard(request("localhost:3000"))?.status, 403);
});
