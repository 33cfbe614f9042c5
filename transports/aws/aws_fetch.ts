/**
 * Signed AWS API calls over `fetch`, configured from an AWS SDK v3 client: its credentials (with
 * their refresh), region, endpoint, retry count and clock correction. The hot SQS and SNS calls go
 * through here instead of the SDK's middleware stack, which cost about three times the CPU.
 *
 * @module
 */

import { pause } from "../../session/pause.ts";
import { type SigV4Credentials, SigV4Signer } from "./sigv4.ts";

/**
 * An error answer from an AWS API, shaped like the AWS SDK's service exceptions (`name`, `Code`,
 * `$metadata`, `$fault`, `$retryable`), so that `BrokerError.from` reads it the same way.
 *
 * @example
 * ```ts
 * import { AwsServiceError } from "@asyncmcp/asyncmcp/sqs";
 *
 * const error = new AwsServiceError("The specified queue does not exist.", {
 *   name: "QueueDoesNotExist",
 *   code: "AWS.SimpleQueueService.NonExistentQueue",
 *   status: 400,
 *   fault: "client",
 * });
 * console.log(error.Code, error.$metadata.httpStatusCode);
 * ```
 */
export class AwsServiceError extends Error {
  /** The error code callers match on (for SQS the query-compatible code, as the SDK gives it). */
  readonly Code: string;
  /** The HTTP status and the request id of the answer. */
  readonly $metadata: { httpStatusCode?: number; requestId?: string };
  /** Whether the caller (`client`) or AWS (`server`) is at fault. */
  readonly $fault: "client" | "server";
  /** Set when the error is a throttling one, which the SDK also marks retryable. */
  readonly $retryable?: { throttling: boolean };

  /** Describes one error answer. */
  constructor(
    message: string,
    details: {
      name: string;
      code?: string;
      status?: number;
      requestId?: string;
      fault: "client" | "server";
    },
  ) {
    super(message);
    this.name = details.name;
    this.Code = details.code ?? details.name;
    this.$metadata = { httpStatusCode: details.status, requestId: details.requestId };
    this.$fault = details.fault;
    if (isThrottling(this)) this.$retryable = { throttling: true };
  }
}

/**
 * Options for {@linkcode AwsFetchClient}.
 *
 * @example
 * ```ts ignore
 * const options: AwsFetchClientOptions = {
 *   service: "sns",
 *   parseError: (status, _headers, body) =>
 *     new AwsServiceError(body, { name: "UnknownError", status, fault: "server" }),
 * };
 * ```
 */
export interface AwsFetchClientOptions {
  /** The signing name and endpoint prefix of the service: `sqs` or `sns`. */
  service: string;
  /** Reads an error answer (any status but 2xx) into the error to throw. */
  parseError(status: number, headers: Headers, body: string): AwsServiceError;
}

/** The parts of an AWS SDK v3 client's resolved configuration that the fetch path reads. */
interface ResolvedConfig {
  credentials: () => Promise<SigV4Credentials & { expiration?: Date }>;
  region: () => Promise<string> | string;
  endpoint?: () => Promise<EndpointV1>;
  isCustomEndpoint?: boolean;
  ignoreConfiguredEndpointUrls?: boolean;
  serviceConfiguredEndpoint?: () => Promise<string | undefined>;
  endpointProvider?: (params: Record<string, unknown>) => { url: URL };
  useFipsEndpoint?: () => Promise<boolean>;
  useDualstackEndpoint?: () => Promise<boolean>;
  maxAttempts?: () => Promise<number>;
  defaultSigningName?: string;
  systemClockOffset?: number;
  disableClockSkewCorrection?: boolean;
}

interface EndpointV1 {
  protocol: string;
  hostname: string;
  port?: number;
  path?: string;
}

interface Target {
  url: string;
  host: string;
  path: string;
  signer: SigV4Signer;
  maxAttempts: number;
}

/** Credentials are fetched again this long before they expire (the SDK's own margin). */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** Credentials that come back already within the margin are reused at most this long. */
const SHORT_LIVED_REUSE_MS = 10_000;
const RETRY_BASE_MS = 100;
const THROTTLING_RETRY_BASE_MS = 500;
const RETRY_MAX_DELAY_MS = 20_000;
/** The SDK's retry quota: a failing endpoint gets fewer retries once many were spent. */
const RETRY_TOKENS = 500;
const RETRY_COST = 5;
const NETWORK_RETRY_COST = 10;
const CLOCK_SKEW_LIMIT_MS = 5 * 60_000;
const NEVER_ABORTED = new AbortController().signal;

const THROTTLING_CODES = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
const TRANSIENT_CODES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);
const CLOCK_SKEW_CODES = new Set([
  "AuthFailure",
  "InvalidSignatureException",
  "RequestExpired",
  "RequestInTheFuture",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
]);

/**
 * POSTs signed requests to one AWS service, with the configuration of the SDK client it was
 * built from. Retries as the SDK's standard mode does: up to the client's `maxAttempts` in all,
 * on throttling, 5xx, time-outs, network failures and (once corrected) clock skew, with
 * exponential back-off and full jitter, within a retry quota.
 *
 * @example Call SQS with an SDK client's settings
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { AwsFetchClient, AwsServiceError } from "./aws_fetch.ts";
 *
 * const client = new AwsFetchClient(new SQSClient({}), {
 *   service: "sqs",
 *   parseError: (status, _headers, body) =>
 *     new AwsServiceError(body, { name: "Unknown", status, fault: "server" }),
 * });
 * const text = await client.post('{"QueueNamePrefix":"mcp"}', {
 *   "content-type": "application/x-amz-json-1.0",
 *   "x-amz-target": "AmazonSQS.ListQueues",
 * });
 * ```
 */
export class AwsFetchClient {
  #config: ResolvedConfig;
  #options: AwsFetchClientOptions;
  #target?: Promise<Target>;
  #credentials?: SigV4Credentials;
  #credentialsUntil = 0;
  #refreshing?: Promise<SigV4Credentials>;
  #retryTokens = RETRY_TOKENS;

  /** Reads nothing yet: the configuration is resolved on the first call. */
  constructor(client: { config: object }, options: AwsFetchClientOptions) {
    this.#config = client.config as ResolvedConfig;
    this.#options = options;
  }

  /**
   * Sends one signed POST and returns the body of its 2xx answer.
   *
   * @throws {AwsServiceError} for an error answer, once retries are spent or when not retryable.
   * @throws {Error} for a network failure after retries, and the signal's reason when aborted.
   */
  async post(body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const target = await (this.#target ??= this.#resolveTarget().catch((error) => {
      // Not cached: a region or endpoint that could not be read may be readable next time.
      this.#target = undefined;
      throw error;
    }));
    let spent = 0;
    for (let attempt = 1;; attempt++) {
      signal?.throwIfAborted();
      const credentials = await this.#currentCredentials();
      const signed = target.signer.sign(
        { method: "POST", host: target.host, path: target.path, headers, body },
        credentials,
        new Date(Date.now() + (this.#config.systemClockOffset ?? 0)),
      );
      let failure: Error;
      let cost = RETRY_COST;
      let retryable: boolean;
      try {
        const response = await fetch(target.url, {
          method: "POST",
          headers: { ...headers, ...signed },
          body,
          signal,
        });
        const text = await response.text();
        if (response.ok) {
          this.#retryTokens = Math.min(RETRY_TOKENS, this.#retryTokens + (spent || 1));
          return text;
        }
        const error = this.#options.parseError(response.status, response.headers, text);
        const skewCorrected = this.#correctClockSkew(response.headers);
        failure = error;
        retryable = isThrottling(error) || isTransient(error) ||
          (skewCorrected && CLOCK_SKEW_CODES.has(error.name));
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        // fetch's TypeError would otherwise surface with "TypeError" as its AWS error code.
        failure = new Error(`AWS request failed: ${(error as Error).message}`, { cause: error });
        cost = NETWORK_RETRY_COST;
        retryable = true;
      }
      if (!retryable || attempt >= target.maxAttempts || this.#retryTokens < cost) throw failure;
      this.#retryTokens -= cost;
      spent += cost;
      const base = isThrottling(failure) ? THROTTLING_RETRY_BASE_MS : RETRY_BASE_MS;
      const waitMs = Math.random() * Math.min(RETRY_MAX_DELAY_MS, base * 2 ** attempt);
      await pause(waitMs, signal ?? NEVER_ABORTED);
    }
  }

  /** The client's credentials, fetched again only when near their expiry. */
  #currentCredentials(): SigV4Credentials | Promise<SigV4Credentials> {
    if (this.#credentials && Date.now() < this.#credentialsUntil) return this.#credentials;
    return this.#refreshing ??= (async () => {
      try {
        const identity = await this.#config.credentials();
        const expires = identity.expiration?.getTime();
        const now = Date.now();
        this.#credentials = identity;
        this.#credentialsUntil = expires === undefined ? Infinity : Math.max(
          expires - REFRESH_BEFORE_EXPIRY_MS,
          Math.min(expires, now + SHORT_LIVED_REUSE_MS),
        );
        return identity;
      } finally {
        this.#refreshing = undefined;
      }
    })();
  }

  /**
   * Where requests go: the client's explicit endpoint, else one configured for the service
   * (`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL`, shared config), else the SDK's own endpoint rules
   * for the region (partitions, FIPS, dual-stack). Never the host of a queue URL.
   */
  async #resolveTarget(): Promise<Target> {
    const config = this.#config;
    const region = await config.region();
    let custom: string | undefined;
    if (config.isCustomEndpoint && config.endpoint) {
      const { protocol, hostname, port, path } = await config.endpoint();
      custom = `${protocol}//${hostname}${port ? `:${port}` : ""}${path ?? "/"}`;
    } else if (!config.ignoreConfiguredEndpointUrls) {
      custom = await config.serviceConfiguredEndpoint?.();
    }
    const url = config.endpointProvider
      ? config.endpointProvider({
        Region: region,
        UseFIPS: await config.useFipsEndpoint?.() ?? false,
        UseDualStack: await config.useDualstackEndpoint?.() ?? false,
        Endpoint: custom,
      }).url
      : new URL(custom ?? `https://${this.#options.service}.${region}.amazonaws.com/`);
    return {
      url: url.href,
      host: url.host,
      path: url.pathname || "/",
      signer: new SigV4Signer({
        service: config.defaultSigningName ?? this.#options.service,
        region,
      }),
      maxAttempts: Math.max(1, (await config.maxAttempts?.()) ?? 3),
    };
  }

  /** Adopts the server's clock when it is more than five minutes off ours; true if it did. */
  #correctClockSkew(headers: Headers): boolean {
    const date = headers.get("date");
    if (!date || this.#config.disableClockSkewCorrection) return false;
    const serverTime = Date.parse(date);
    const offset = this.#config.systemClockOffset ?? 0;
    if (!Number.isFinite(serverTime)) return false;
    if (Math.abs(serverTime - (Date.now() + offset)) < CLOCK_SKEW_LIMIT_MS) return false;
    // The SDK keeps its offset on the same configuration object: both paths share the fix.
    this.#config.systemClockOffset = serverTime - Date.now();
    return true;
  }
}

function isThrottling(error: Error): boolean {
  const aws = error as Partial<AwsServiceError>;
  return aws.$metadata?.httpStatusCode === 429 || THROTTLING_CODES.has(error.name) ||
    (aws.Code !== undefined && THROTTLING_CODES.has(aws.Code));
}

function isTransient(error: Error): boolean {
  const aws = error as Partial<AwsServiceError>;
  return TRANSIENT_CODES.has(error.name) ||
    TRANSIENT_STATUSES.has(aws.$metadata?.httpStatusCode ?? 0);
}
