/**
 * `asyncmcp`: the command line. `proxy` lets standard MCP clients (stdio or Streamable HTTP) use a
 * server behind SQS, SNS+SQS, webhooks or Streamable HTTP + webhook; `setup` creates the queues
 * and topics a transport needs.
 *
 * ```sh
 * deno task asyncmcp proxy --help
 * deno run -A jsr:@asyncmcp/asyncmcp/cli setup sqs --prefix my-mcp
 * ```
 *
 * Exit codes: 0 done, 1 failed (an endpoint cannot be reached, ...), 2 bad command line.
 *
 * @module
 */

import { proxyCommand } from "./proxy_command.ts";
import { setupCommand } from "./setup_command.ts";
import { suggestion } from "./suggest.ts";
import { UsageError } from "./usage_error.ts";
import { VERSION } from "./version.ts";

const MAIN_HELP = `asyncmcp ${VERSION}: MCP over queues and webhooks

Usage: asyncmcp <command> [flags]

Commands:
  proxy   Serve a server that sits behind an async transport to stdio or Streamable HTTP clients
  setup   Create the queues and topics a transport needs (idempotent)

Flags:
  --help, -h      this help
  --version, -V   the version

Run 'asyncmcp <command> --help' for a command's flags and examples.
`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  proxy: proxyCommand,
  setup: setupCommand,
};

/**
 * Runs the command line `args`; resolves with the exit code. Errors end as one line on stderr.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await main(["setup", "sqs", "--prefix", "demo"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      console.log(MAIN_HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version" || command === "-V") {
      console.log(`asyncmcp ${VERSION}`);
      return 0;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) {
      throw new UsageError(
        `unknown command '${command}'${suggestion(command, Object.keys(COMMANDS))}`,
      );
    }
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = command && Object.hasOwn(COMMANDS, command) ? `${command} --help` : "--help";
      console.error(`asyncmcp: ${error.message} (see 'asyncmcp ${help}')`);
      return 2;
    }
    console.error(`asyncmcp: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  // Deno 2.9 keeps an aborted long poll's connection open for about 90 s (README: Shutdown).
  Deno.exit(await main(Deno.args));
}
