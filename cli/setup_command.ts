/**
 * `asyncmcp setup`: its flags and help; the work itself is in `setup.ts`.
 *
 * @module
 */

import { parseFlags } from "./flags.ts";
import { setup } from "./setup.ts";
import { UsageError } from "./usage_error.ts";

const SETUP_HELP = `asyncmcp setup: create the queues and topics of a transport

Usage: asyncmcp setup <sqs|sns-sqs> [--prefix NAME]

Creates what is missing and finds what exists, so running it twice changes nothing. Prints each
step on stderr and the addresses as KEY=value lines on stdout, ready for an .env file.

  --prefix NAME   the start of every name (default mcp)
  sqs             NAME-requests, NAME-responses queues
  sns-sqs         NAME-requests, NAME-responses topics; NAME-server, NAME-client queues, each
                  subscribed to its topic with the queue policy that lets the topic send to it

Examples:
  AWS_ENDPOINT_URL=http://localhost:4566 asyncmcp setup sqs
  asyncmcp setup sns-sqs --prefix billing-mcp > .env
`;

/**
 * Runs `asyncmcp setup` with the arguments after the command name; resolves with the exit code.
 *
 * @throws {UsageError} for a bad command line.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await setupCommand(["sqs", "--prefix", "demo"]));
 * ```
 */
export async function setupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    help: { type: "boolean", short: "h" },
    prefix: { type: "string" },
  }, 1);
  if (values.help) {
    console.log(SETUP_HELP);
    return 0;
  }
  const [transport] = positionals;
  if (transport !== "sqs" && transport !== "sns-sqs") {
    throw new UsageError(
      "setup needs a transport: 'asyncmcp setup sqs' or 'asyncmcp setup sns-sqs'",
    );
  }
  const prefix = (values.prefix as string | undefined) ?? "mcp";
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(prefix)) {
    throw new UsageError(
      `--prefix may hold letters, digits, '-' and '_' (at most 60): got '${prefix}'`,
    );
  }
  const result = await setup({ transport, prefix }, (step, done) => {
    console.error(done ? `  ✓ ${step}` : `  … ${step}`);
  });
  for (const [key, value] of Object.entries(result)) console.log(`${key}=${value}`);
  return 0;
}
