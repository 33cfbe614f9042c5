/**
 * Who may talk to an HTTP server of asyncmcp: an `authorize` hook turns each request into a
 * principal or a refusal, and sessions are bound to the principal that created them.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { JSONRPC_ERROR } from "../../session/envelope.ts";
import { hostGuard, type HostGuardOptions } from "./host_guard.ts";
import { jsonRpcErrorResponse } from "./http_message.ts";

/** Who sent a request, as an {@linkcode Authorize} hook decided. */
export interface Principal {
  /**
   * A stable id of the caller (a user, a service account). A session belongs to the principal
   * that created it: requests of any other principal in it are refused with 403.
   */
  readonly id: string;
}

/**
 * Decides who sent a request: a {@linkcode Principal} lets it in, a `Response` (401, 403, ...)
 * is sent back instead. Runs before anything else reads the request.
 *
 * @example Let in requests with a header your gateway sets
 * ```ts
 * import type { Authorize } from "@asyncmcp/asyncmcp/webhook";
 *
 * const fromGateway: Authorize = (request) => {
 *   const user = request.headers.get("x-authenticated-user");
 *   return user ? { id: user } : new Response("Unauthorized", { status: 401 });
 * };
 * ```
 */
export type Authorize = (request: Request) => Principal | Response | Promise<Principal | Response>;

/** Options for {@linkcode bearerTokenAuth}. */
export interface BearerTokenAuthOptions {
  /** The realm named in `WWW-Authenticate` of a refusal. @default {"asyncmcp"} */
  realm?: string;
}

/** Tokens shorter than this are refused when the verifier is built: they can be guessed. */
const MIN_TOKEN_LENGTH = 16;

/**
 * An {@linkcode Authorize} hook for `Authorization: Bearer <token>`: `tokens` is one token (its
 * principal id is `"bearer"`) or a map from each accepted token to the id of its principal. Every
 * token is compared in constant time (their SHA-256 digests, all of them, whatever matches), so a
 * refusal's timing says nothing about how close a guess was. A missing or unknown token gets 401
 * with `WWW-Authenticate: Bearer`.
 *
 * @example Two callers, each with its own token
 * ```ts
 * import { bearerTokenAuth } from "@asyncmcp/asyncmcp/webhook";
 *
 * const authorize = bearerTokenAuth({
 *   "f0e1d2c3b4a5968778695a4b3c2d1e0f": "alice",
 *   "0123456789abcdef0123456789abcdef": "build-bot",
 * });
 * const answer = await authorize(
 *   new Request("http://127.0.0.1/mcp", {
 *     headers: { Authorization: "Bearer 0123456789abcdef0123456789abcdef" },
 *   }),
 * );
 * console.log(answer instanceof Response ? answer.status : answer.id); // "build-bot"
 * ```
 *
 * @throws {RangeError} when there is no token, or a token is shorter than 16 characters.
 */
export function bearerTokenAuth(
  tokens: string | Readonly<Record<string, string>>,
  options: BearerTokenAuthOptions = {},
): Authorize {
  const entries = typeof tokens === "string" ? [[tokens, "bearer"]] : Object.entries(tokens);
  if (entries.length === 0) {
    throw new RangeError("Cannot build bearer token check without a token: pass at least one");
  }
  for (const [token] of entries) {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new RangeError(
        `Cannot use bearer token as it is shorter than ${MIN_TOKEN_LENGTH} characters: ` +
          `use a long random token, current length is ${token.length}`,
      );
    }
  }
  const known = entries.map(([token, id]) => ({ digest: digest(token), id }));
  const challenge = `Bearer realm="${options.realm ?? "asyncmcp"}"`;
  return (request) => {
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = digest(match?.[1] ?? "");
    let found: string | undefined;
    for (const { digest: expected, id } of known) {
      // No early exit: every token is compared, whichever matches.
      if (timingSafeEqual(given, expected) && match) found = id;
    }
    if (found !== undefined) return { id: found };
    return jsonRpcErrorResponse(
      401,
      {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: match
          ? "Unauthorized: the bearer token is not valid; send one this server accepts"
          : "Unauthorized: send Authorization: Bearer <token> with a token this server accepts",
      },
      null,
      { "WWW-Authenticate": challenge },
    );
  };
}

/** The JSON-RPC error of a request in a session that belongs to another principal. */
export const FORBIDDEN_SESSION = {
  code: JSONRPC_ERROR.FORBIDDEN,
  message: "Forbidden: this session belongs to another principal; start a session of your own",
} as const;

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/** What {@linkcode requestGate} lets through: who sent the request, when it is known. */
export type GateVerdict =
  | { refused: Response; principal?: undefined }
  | { refused?: undefined; principal?: string };

/**
 * The checks every HTTP server of asyncmcp runs before reading a request: the Host/Origin guard
 * (DNS rebinding), then the `authorize` hook. A refusal cancels the request's body and carries
 * the response to send.
 *
 * @example
 * ```ts
 * import { requestGate } from "./authorization.ts";
 *
 * const gate = requestGate({});
 * const verdict = await gate(new Request("http://evil.example/mcp", { method: "POST", body: "{}" }));
 * console.log(verdict.refused?.status); // 403
 * ```
 */
export function requestGate(
  options: HostGuardOptions & { authorize?: Authorize },
): (request: Request) => Promise<GateVerdict> {
  const guard = hostGuard(options);
  const { authorize } = options;
  return async (request) => {
    const refused = guard(request);
    if (refused) {
      await request.body?.cancel();
      return { refused };
    }
    if (!authorize) return {};
    const verdict = await authorize(request);
    if (verdict instanceof Response) {
      await request.body?.cancel();
      return { refused: verdict };
    }
    return { principal: verdict.id };
  };
}
