/**
 * What differs between the runtimes asyncmcp runs on (Deno, Node 20+, Bun, edge runtimes), in one
 * place: timers that must not keep a process alive, environment variables, serving a fetch
 * handler on a port of its own, and `Promise.withResolvers` (which Node 20 lacks). The rest of the library uses web-standard APIs and `node:`
 * modules that all of them provide. Not exported: an implementation detail of the library.
 *
 * @module
 */

/** A handler that answers a web-standard `Request`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A fetch handler served by {@linkcode serveFetch}. */
export interface ServedFetch {
  /** The interface it listens on, as the system reports it. */
  hostname: string;
  /** The port it listens on (the one the system chose for port 0). */
  port: number;
  /** Stops accepting connections and resolves once the requests being answered are done. */
  close(): Promise<void>;
}

/**
 * A promise and the functions that settle it: `Promise.withResolvers()`, which Node 20 lacks.
 *
 * @example
 * ```ts ignore
 * const { promise, resolve } = promiseWithResolvers<string>();
 * resolve("done");
 * console.log(await promise);
 * ```
 */
export function promiseWithResolvers<T>(): PromiseWithResolvers<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

/** The part of the `Deno` namespace used here; absent on other runtimes. */
function deno(): typeof Deno | undefined {
  return (globalThis as { Deno?: typeof Deno }).Deno;
}

/**
 * Lets the process end while `timer` is still set (for housekeeping such as idle sweeps): the
 * timer's own `unref()` where timers are objects (Node, Bun, Deno 2), `Deno.unrefTimer` for a
 * numeric timer id on Deno, nothing on runtimes without either.
 *
 * @example
 * ```ts ignore
 * const sweeper = setInterval(sweep, 60_000);
 * unrefTimer(sweeper);
 * ```
 */
export function unrefTimer(timer: ReturnType<typeof setInterval>): void {
  if (typeof timer === "number") deno()?.unrefTimer(timer);
  else (timer as { unref?: () => void }).unref?.();
}

/**
 * The value of an environment variable, or undefined when it is unset, empty or may not be read
 * (Deno without `--allow-env`, runtimes without an environment).
 *
 * @example
 * ```ts ignore
 * const choice = environmentVariable("ASYNCMCP_AWS_HTTP") ?? "fetch";
 * ```
 */
export function environmentVariable(name: string): string | undefined {
  try {
    const runtime = deno();
    if (runtime) return runtime.env.get(name) || undefined;
    const { process } = globalThis as { process?: { env?: Record<string, string | undefined> } };
    return process?.env?.[name] || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves `handler` on `hostname` and `port` (0: the system chooses): `Deno.serve` on Deno,
 * `Bun.serve` on Bun, `node:http` elsewhere. Resolves once it listens.
 *
 * @example
 * ```ts ignore
 * const served = await serveFetch(() => new Response("ok"), { hostname: "127.0.0.1", port: 0 });
 * await served.close();
 * ```
 */
export function serveFetch(
  handler: FetchHandler,
  options: { hostname: string; port: number },
): Promise<ServedFetch> {
  const runtime = deno();
  if (runtime) return serveOnDeno(runtime, handler, options);
  const { Bun } = globalThis as { Bun?: BunLike };
  if (Bun) return Promise.resolve(serveOnBun(Bun, handler, options));
  return serveOnNode(handler, options);
}

async function serveOnDeno(
  runtime: typeof Deno,
  handler: FetchHandler,
  { hostname, port }: { hostname: string; port: number },
): Promise<ServedFetch> {
  const { promise, resolve } = promiseWithResolvers<Deno.NetAddr>();
  const server = runtime.serve({ hostname, port, onListen: resolve }, handler);
  const address = await promise;
  return { hostname: address.hostname, port: address.port, close: () => server.shutdown() };
}

/** The part of Bun's API used here. */
interface BunLike {
  serve(options: { hostname: string; port: number; fetch: FetchHandler }): {
    hostname?: string;
    port?: number;
    stop(closeActiveConnections?: boolean): Promise<void> | void;
  };
}

function serveOnBun(
  Bun: BunLike,
  handler: FetchHandler,
  { hostname, port }: { hostname: string; port: number },
): ServedFetch {
  const server = Bun.serve({ hostname, port, fetch: handler });
  return {
    hostname: server.hostname ?? hostname,
    port: server.port ?? port,
    close: async () => {
      await server.stop();
    },
  };
}

async function serveOnNode(
  handler: FetchHandler,
  { hostname, port }: { hostname: string; port: number },
): Promise<ServedFetch> {
  // Loaded only here, so that runtimes without `node:http` never need it.
  const [{ createServer }, { Readable }] = await Promise.all([
    import("node:http"),
    import("node:stream"),
  ]);
  const server = createServer(async (incoming, outgoing) => {
    const aborted = new AbortController();
    outgoing.on("close", () => {
      if (!outgoing.writableFinished) aborted.abort();
    });
    try {
      const headers = new Headers();
      for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
        headers.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
      }
      const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
      const request = new Request(`http://${headers.get("host") ?? hostname}${incoming.url}`, {
        method: incoming.method,
        headers,
        body: hasBody ? Readable.toWeb(incoming) as ReadableStream<Uint8Array> : undefined,
        signal: aborted.signal,
        duplex: "half",
      } as RequestInit);
      const response = await handler(request);
      outgoing.writeHead(response.status, response.statusText, [...response.headers].flat());
      if (response.body) {
        // A client that goes away ends the stream too (an event stream may never end itself).
        const reader = response.body.getReader();
        aborted.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          outgoing.write(read.value);
        }
      }
      outgoing.end();
    } catch (error) {
      // As Deno.serve and Bun.serve do with a handler that throws.
      console.error("Cannot answer request:", error);
      if (!outgoing.headersSent) outgoing.writeHead(500);
      outgoing.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as { address: string; port: number };
  return {
    hostname: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
