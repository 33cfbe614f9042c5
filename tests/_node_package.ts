/**
 * The package as Node and Bun users get it: every export of deno.json but the CLI, bundled with
 * `deno bundle` (npm dependencies left as imports), under `node_modules/@asyncmcp/asyncmcp` of a
 * temporary folder where npm installs its dependencies at the versions deno.lock pins.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const NAME = "@asyncmcp/asyncmcp";
/** The Bun the tests run under; npm installs it (an optional dependency: it may be missing). */
export const BUN_VERSION = "1.4.5";

/** A temporary folder holding the built package and its npm dependencies. */
export interface NodePackage {
  /** The folder: run `node` and `bun` here. */
  dir: string;
  /** The `bun` executable, when npm could install it. */
  bun?: string;
}

/** Why npm cannot install packages here, or undefined when it can. */
export async function npmUnavailable(): Promise<string | undefined> {
  try {
    const ping = await new Deno.Command("npm", {
      args: ["ping"],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(15_000),
    }).output();
    if (ping.success) return undefined;
    return `npm cannot reach its registry: ${new TextDecoder().decode(ping.stderr).trim()}`;
  } catch (error) {
    return `npm cannot run: ${error instanceof Error ? error.message : error}`;
  }
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** The npm packages `code` imports (bare specifiers other than `node:` ones). */
function packagesImported(code: string): Set<string> {
  const names = new Set<string>();
  for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*"([^".][^"]*)"/g)) {
    if (specifier.startsWith("node:")) continue;
    const parts = specifier.split("/");
    names.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
  }
  return names;
}

/** The version deno.lock pins for an npm package. */
async function lockedVersions(): Promise<(name: string) => string> {
  const { specifiers } = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  return (name) => {
    const key = Object.keys(specifiers).find((specifier) => specifier.startsWith(`npm:${name}@`));
    if (!key) throw new Error(`Cannot install ${name} as deno.lock pins no version of it`);
    return specifiers[key].split("_")[0];
  };
}

/**
 * Bundles the package into `dir/package` (each export a module of its own, sharing chunks; npm
 * packages stay imports) and writes its package.json: exports as deno.json's, dependencies as
 * deno.lock pins them. Also bundles `extra` entry points (internals the smoke tests use).
 */
async function bundle(dir: string, extra: string[]): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const lock = await lockedVersions();
  const exports = Object.entries<string>(config.exports).filter(([name]) => name !== "./cli");
  const entries = [...exports.map(([, path]) => path), ...extra];
  const out = `${dir}/package`;
  const npm = Object.keys(config.imports).filter((name) => !name.endsWith("/"));
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--format=esm",
    "--code-splitting",
    ...npm.flatMap((name) => ["--external", name, "--external", `${name}/*`]),
    `--outdir=${out}`,
    ...entries.map((entry) => new URL(entry, ROOT).pathname),
  ], ROOT.pathname);
  const imported = new Set<string>();
  for await (const entry of Deno.readDir(out)) {
    if (entry.isFile && entry.name.endsWith(".js")) {
      for (const name of packagesImported(await Deno.readTextFile(`${out}/${entry.name}`))) {
        imported.add(name);
      }
    }
  }
  for (const [, path] of exports) {
    const code = await Deno.readTextFile(`${out}/${path.replace(/\.ts$/, ".js")}`);
    for (const name of packagesImported(code)) imported.add(name);
  }
  const dependencies = Object.fromEntries([...imported].sort().map((name) => [name, lock(name)]));
  const packageJson = {
    name: NAME,
    version: config.version,
    type: "module",
    exports: Object.fromEntries(
      exports.map((
        [name, path],
      ) => [name, `./${path.replace(/^\.\//, "").replace(/\.ts$/, ".js")}`]),
    ),
    dependencies,
  };
  await Deno.writeTextFile(`${out}/package.json`, JSON.stringify(packageJson, null, 2));
}

/**
 * Builds the package in a fresh temporary folder and installs it there with npm, as a Node user's
 * project has it (`node_modules/@asyncmcp/asyncmcp` and its dependencies), with Bun beside it.
 */
export async function installNodePackage(extra: string[] = []): Promise<NodePackage> {
  const dir = await Deno.makeTempDir({ prefix: "asyncmcp-node-" });
  try {
    await bundle(dir, extra);
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({
        private: true,
        type: "module",
        // The package, and what a user's own code imports beside it (the README's snippet).
        dependencies: { [NAME]: "file:./package", zod: (await lockedVersions())("zod") },
        optionalDependencies: { bun: BUN_VERSION },
      }),
    );
    await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
    ], dir);
    const bun = `${dir}/node_modules/.bin/bun`;
    const bunRuns = await new Deno.Command(bun, { args: ["--version"], stdout: "null" })
      .output().then((output) => output.success, () => false);
    return { dir, bun: bunRuns ? bun : undefined };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
