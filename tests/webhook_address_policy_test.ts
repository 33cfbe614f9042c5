import assert from "node:assert/strict";
import { checkWebhookUrl, webhookUrlPolicy } from "../transports/webhook/webhook_address_policy.ts";

const publicResolver = () => Promise.resolve(["93.184.216.34"]);

for (
  const [url, reason] of [
    ["http://169.254.169.254/latest/meta-data", /link-local/],
    ["http://localhost:8080/hook", /names this machine/],
    ["http://127.0.0.1:8080/hook", /loopback/],
    ["http://[::1]/hook", /loopback/],
    ["http://10.0.0.5/hook", /private/],
    ["http://172.20.1.1/hook", /private/],
    ["http://192.168.1.10/hook", /private/],
    ["http://[fd00:ec2::254]/hook", /private/],
    ["http://[::ffff:127.0.0.1]/hook", /loopback/],
    ["http://100.64.0.1/hook", /carrier-grade NAT/],
    ["http://[::127.0.0.1]/hook", /loopback/],
    ["http://[::ffff:0:a9fe:a9fe]/hook", /link-local/],
    ["http://[64:ff9b::a9fe:a9fe]/hook", /link-local/],
    ["http://[2002:a9fe:a9fe::]/hook", /link-local/],
    ["http://[fec0::1]/hook", /site-local/],
    ["http://[fe80::1]/hook", /link-local/],
    ["http://[::]/hook", /an unspecified address/],
    ["http://0.0.0.0/hook", /an unspecified address/],
    ["http://224.0.0.1/hook", /a multicast address/],
    ["http://239.255.255.250/hook", /a multicast address/],
    ["http://[ff02::1]/hook", /a multicast address/],
    ["http://240.0.0.1/hook", /a reserved address/],
    ["http://255.255.255.255/hook", /a reserved address/],
    ["http://192.0.0.8/hook", /a reserved address/],
    ["http://198.18.0.1/hook", /a benchmarking address/],
    ["http://198.19.255.254/hook", /a benchmarking address/],
    ["http://192.0.2.10/hook", /a documentation address/],
    ["http://198.51.100.7/hook", /a documentation address/],
    ["http://203.0.113.9/hook", /a documentation address/],
    ["http://[2001:db8::1]/hook", /a documentation address/],
    ["file:///etc/passwd", /scheme is file, not http or https/],
    ["ftp://example.com/hook", /scheme is ftp,/],
    ["not a url", /not a URL/],
  ] as const
) {
  Deno.test(`checkWebhookUrl() refuses ${url}`, async () => {
    const verdict = await checkWebhookUrl(url, { resolve: publicResolver });
    assert.equal(verdict.ok, false);
    if (!verdict.ok) assert.match(verdict.reason, reason);
  });
}

Deno.test("checkWebhookUrl() refuses a name that resolves to a private address", async () => {
  const verdict = await checkWebhookUrl("https://internal.example.com/hook", {
    resolve: () => Promise.resolve(["93.184.216.34", "10.1.2.3"]),
  });
  assert.deepEqual(verdict.ok, false);
});

Deno.test("checkWebhookUrl() refuses a name that does not resolve", async () => {
  const verdict = await checkWebhookUrl("https://nowhere.invalid/hook", {
    resolve: () => Promise.reject(new Error("NXDOMAIN")),
  });
  assert.equal(verdict.ok, false);
});

Deno.test("checkWebhookUrl() accepts an https URL whose name resolves to public addresses, naming them", async () => {
  assert.deepEqual(
    await checkWebhookUrl("https://client.example.com/mcp/webhook", { resolve: publicResolver }),
    { ok: true, addresses: ["93.184.216.34"] },
  );
});

Deno.test("checkWebhookUrl() lets an address through that allowAddress names, and no other", async () => {
  const options = {
    resolve: () => Promise.resolve(["10.0.0.5"]),
    allowAddress: (ip: string) => ip === "10.0.0.5",
  };
  assert.deepEqual(await checkWebhookUrl("https://receiver.internal/hook", options), {
    ok: true,
    addresses: ["10.0.0.5"],
  });
  assert.deepEqual(await checkWebhookUrl("http://10.0.0.5/hook", options), { ok: true });
  const other = await checkWebhookUrl("http://10.0.0.6/hook", options);
  assert.equal(other.ok, false);
});

Deno.test("webhookUrlPolicy() allows hosts listed in allowHosts whatever they are", async () => {
  const policy = webhookUrlPolicy({ allowHosts: ["127.0.0.1"] });
  assert.equal(await policy("http://127.0.0.1:9999/hook"), true);
  assert.match(String(await policy("http://127.0.0.2:9999/hook")), /127\.0\.0\.2 is a loopback/);
});

Deno.test("checkWebhookUrl() accepts a public IPv6 address", async () => {
  const verdict = await checkWebhookUrl("https://[2606:4700:4700::1111]/hook");
  assert.equal(verdict.ok, true);
});
