import assert from "node:assert/strict";

Deno.test("sdk.ts gives the MCP SDK real types, so a wrong use fails deno check", async () => {
  // Under Deno the SDK's `<path>.js` imports are silently `any`; a deliberate type error that
  // type-checks would mean the @ts-types re-exports in sdk.ts stopped working.
  const root = new URL("../", import.meta.url);
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      file,
      `import { McpServer } from "${new URL("sdk.ts", root).href}";\n` +
        `const server = new McpServer({ name: "x", version: "1" });\n` +
        `const wrong: number = server.server;\n` +
        `console.log(wrong);\n`,
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", new URL("deno.json", root).pathname, file],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.notEqual(code, 0, "deno check accepted a deliberate type error: the SDK types are any");
    assert.match(new TextDecoder().decode(stderr), /TS2322/);
  } finally {
    await Deno.remove(file);
  }
});
