/**
 * Helpers for the AWS hot-path tests: a loopback HTTP server that stands in for SQS or SNS (it
 * records every request and answers with whatever the test scripts, so tests see exactly what the
 * fetch path sends and how it reacts to throttling, 5xx and batch failures), and assertions on the
 * `BrokerError`s that come out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { BrokerError } from "../session/errors.ts";

/** One request as the fake service received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
  /** `AmazonSQS.<Op>` for SQS, the `Action` form field for SNS. */
  operation: string;
}

/** What a test gets from {@linkcode withFakeAws}. */
export interface FakeAws {
  endpoint: string;
  requests: RecordedRequest[];
  /** An SQS client for this endpoint; extra settings override the defaults. */
  sqsClient(config?: ConstructorParameters<typeof SQSClient>[0]): SQSClient;
  /** An SNS client for this endpoint. */
  snsClient(config?: ConstructorParameters<typeof SNSClient>[0]): SNSClient;
}

/** A JSON-protocol (SQS) answer. */
export function jsonAnswer(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/x-amz-json-1.0", ...headers },
  });
}

/** A Query-protocol (SNS) answer. */
export function xmlAnswer(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/xml" } });
}

/** Runs `fn` with a fake service answering through `answer`, then stops it and its clients. */
export async function withFakeAws(
  answer: (request: RecordedRequest, index: number) => Response | Promise<Response>,
  fn: (fake: FakeAws) => Promise<void>,
): Promise<void> {
  const requests: RecordedRequest[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.text();
    const url = new URL(request.url);
    const recorded = {
      method: request.method,
      path: url.pathname,
      headers: request.headers,
      body,
      operation: request.headers.get("x-amz-target") ??
        new URLSearchParams(body).get("Action") ?? "",
    };
    requests.push(recorded);
    return await answer(recorded, requests.length - 1);
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  const clients: Array<{ destroy(): void }> = [];
  const base = {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
  };
  try {
    await fn({
      endpoint,
      requests,
      sqsClient: (config) => {
        const client = new SQSClient({ ...base, ...config });
        clients.push(client);
        return client;
      },
      snsClient: (config) => {
        const client = new SNSClient({ ...base, ...config });
        clients.push(client);
        return client;
      },
    });
  } finally {
    for (const client of clients) client.destroy();
    await server.shutdown();
  }
}

/** The reason `promise` rejects with; fails the test when it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail("Expected the call to fail");
}

/** Asserts that `error` is a `BrokerError` with the given operation, code, status, retryable. */
export function assertBrokerError(
  error: unknown,
  expected: Partial<Pick<BrokerError, "operation" | "code" | "status" | "retryable">>,
): asserts error is BrokerError {
  assert.ok(error instanceof BrokerError, `Expected a BrokerError: ${error}`);
  const actual = Object.fromEntries(
    Object.keys(expected).map((key) => [key, error[key as keyof typeof expected]]),
  );
  assert.deepEqual(actual, expected);
}
