import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Runs `deno check` on `code`; resolves with its exit code and error output. */
async function check(code: string): Promise<{ code: number; stderr: string }> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", new URL("deno.json", ROOT).pathname, file],
      stdout: "null",
      stderr: "piped",
    }).output();
    return { code: result.code, stderr: new TextDecoder().decode(result.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

for (const module of ["sdk.ts", "sdk_v2.ts"]) {
  Deno.test(`${module} gives the MCP SDK real types, so a wrong use fails deno check`, async () => {
    // Under Deno the v1 SDK's `<path>.js` imports are silently `any`; a deliberate type error that
    // type-checks would mean the re-exports stopped carrying the SDK's types.
    const { code, stderr } = await check(
      `import { McpServer } from "${new URL(module, ROOT).href}";\n` +
        `const server = new McpServer({ name: "x", version: "1" });\n` +
        `const wrong: number = server.server;\n` +
        `console.log(wrong);\n`,
    );
    assert.notEqual(code, 0, "deno check accepted a deliberate type error: the SDK types are any");
    assert.match(stderr, /TS2322/);
  });
}
