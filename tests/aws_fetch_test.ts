import assert from "node:assert/strict";
import { BrokerError } from "../session/errors.ts";
import { sqsCalls } from "../transports/aws/sqs_calls.ts";
import { SnsOutbox } from "../transports/sns_sqs/sns_outbox.ts";
import { eventually } from "./_fixture.ts";
import { AwsFetchClient, AwsServiceError } from "../transports/aws/aws_fetch.ts";
import {
  assertBrokerError,
  type FakeAws,
  jsonAnswer,
  rejectionOf,
  withFakeAws,
  xmlAnswer,
} from "./_fake_aws.ts";

const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/requests";

function sqsError(status: number, type: string, queryCode = type): Response {
  return jsonAnswer(status, { __type: `com.amazonaws.sqs#${type}`, message: `${type} happened` }, {
    "x-amzn-query-error": `${queryCode};${status < 500 ? "Sender" : "Receiver"}`,
  });
}

/** What a failed call looks like once a caller (inbox, outbox) has wrapped it. */
async function rejection(promise: Promise<unknown>): Promise<BrokerError> {
  return BrokerError.from(await rejectionOf(promise), { operation: "test", address: QUEUE_URL });
}

Deno.test("fetch path: a 500 answer is retried and the call succeeds on the next attempt", async () => {
  await withFakeAws(
    (_, index) =>
      index === 0 ? sqsError(500, "InternalError") : jsonAnswer(200, { MessageId: "m-1" }),
    async (fake) => {
      const calls = sqsCalls(fake.sqsClient(), "fetch");
      const result = await calls.sendMessage({ QueueUrl: QUEUE_URL, MessageBody: "{}" });
      assert.equal(result.MessageId, "m-1");
      assert.equal(fake.requests.length, 2);
    },
  );
});

Deno.test("fetch path: a throttling answer is retried, a client error is not", async () => {
  await withFakeAws(
    (request, index) =>
      request.body.includes("throttled") && index === 0
        ? sqsError(400, "RequestThrottled")
        : request.body.includes("invalid")
        ? sqsError(400, "InvalidParameterValue")
        : jsonAnswer(200, {}),
    async (fake) => {
      const calls = sqsCalls(fake.sqsClient(), "fetch");
      await calls.sendMessage({ QueueUrl: QUEUE_URL, MessageBody: "throttled" });
      assert.equal(fake.requests.length, 2);
      const error = await rejection(
        calls.sendMessage({ QueueUrl: QUEUE_URL, MessageBody: "invalid" }),
      );
      assert.equal(fake.requests.length, 3);
      assert.equal(error.code, "InvalidParameterValue");
      assert.equal(error.status, 400);
      assert.equal(error.retryable, false);
    },
  );
});

Deno.test("fetch path: retries stop at the client's maxAttempts and the error keeps code and status", async () => {
  await withFakeAws(() => sqsError(503, "ServiceUnavailable"), async (fake) => {
    const calls = sqsCalls(fake.sqsClient({ maxAttempts: 2 }), "fetch");
    const error = await rejection(
      calls.deleteMessageBatch({ QueueUrl: QUEUE_URL, Entries: [{ Id: "0", ReceiptHandle: "h" }] }),
    );
    assert.equal(fake.requests.length, 2);
    assert.equal(error.code, "ServiceUnavailable");
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
  });
});

/**
 * A fetch client over a hand-made resolved configuration whose credentials provider counts its
 * calls (an SDK client's own provider memoizes, which would hide what the fetch path asks for).
 */
function countingCredentials(
  fake: FakeAws,
  lifetimeMs: number,
): { client: AwsFetchClient; fetched: () => number } {
  let fetched = 0;
  const { hostname, port } = new URL(fake.endpoint);
  const config = {
    credentials: () =>
      Promise.resolve({
        accessKeyId: `AKID${++fetched}`,
        secretAccessKey: "secret",
        expiration: new Date(Date.now() + lifetimeMs),
      }),
    region: () => Promise.resolve("us-east-1"),
    isCustomEndpoint: true,
    endpoint: () => Promise.resolve({ protocol: "http:", hostname, port: Number(port), path: "/" }),
  };
  const client = new AwsFetchClient({ config }, {
    service: "sqs",
    parseError: (status) =>
      new AwsServiceError("failed", { name: "Failed", status, fault: "server" }),
  });
  return { client, fetched: () => fetched };
}

Deno.test("fetch path: credentials near their expiry are fetched again from the client's provider", async () => {
  await withFakeAws(() => jsonAnswer(200, {}), async (fake) => {
    // Expiring within the SDK's five-minute margin: reused for their last second, then replaced.
    const { client, fetched } = countingCredentials(fake, 1000);
    const send = () => client.post("{}", { "content-type": "application/x-amz-json-1.0" });
    await send();
    await send();
    assert.equal(fetched(), 1, "credentials still valid are reused");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await send();
    assert.equal(fetched(), 2, "expired credentials are fetched again");
    const credentialOf = (index: number) =>
      /Credential=(\w+)\//.exec(fake.requests[index].headers.get("authorization")!)![1];
    assert.deepEqual([0, 1, 2].map(credentialOf), ["AKID1", "AKID1", "AKID2"]);
  });
});

Deno.test("fetch path: long-lived credentials are fetched once for many calls", async () => {
  await withFakeAws(() => jsonAnswer(200, {}), async (fake) => {
    const { client, fetched } = countingCredentials(fake, 3_600_000);
    for (let i = 0; i < 5; i++) await client.post("{}", {});
    assert.equal(fetched(), 1);
  });
});

Deno.test("fetch path: requests go to the client's endpoint, never to the queue URL's host", async () => {
  await withFakeAws(() => jsonAnswer(200, {}), async (fake) => {
    const calls = sqsCalls(fake.sqsClient(), "fetch");
    const queueUrl = "http://sqs.us-east-1.nowhere.invalid:9/000000000000/requests";
    await calls.sendMessage({ QueueUrl: queueUrl, MessageBody: "{}" });
    assert.equal(fake.requests.length, 1);
    assert.equal(JSON.parse(fake.requests[0].body).QueueUrl, queueUrl);
  });
});

Deno.test("fetch path: aborting a long poll ends the receive at once with the abort reason", async () => {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => answer = resolve);
  await withFakeAws(async () => {
    await answered;
    return jsonAnswer(200, {});
  }, async (fake) => {
    const calls = sqsCalls(fake.sqsClient(), "fetch");
    const abort = new AbortController();
    const receiving = calls.receiveMessage(
      { QueueUrl: QUEUE_URL, WaitTimeSeconds: 20 },
      abort.signal,
    );
    await eventually(() => fake.requests.length === 1);
    const reason = new Error("stopping");
    // Without the abort wired through, the receive would end with this late empty answer.
    const late = setTimeout(answer, 1000);
    const started = performance.now();
    abort.abort(reason);
    await assert.rejects(receiving, (error) => error === reason);
    assert.ok(performance.now() - started < 500);
    clearTimeout(late);
    answer();
  });
});

Deno.test("fetch path: a failed entry of an SNS PublishBatch answer becomes that message's BrokerError", async () => {
  const failed = `<PublishBatchResponse><PublishBatchResult>
    <Successful><member><Id>0</Id><MessageId>m-0</MessageId></member></Successful>
    <Failed><member><Id>1</Id><Code>InvalidParameter</Code>
      <Message>Invalid parameter: &lt;MessageAttributes&gt; &amp; more</Message>
      <SenderFault>true</SenderFault></member></Failed>
  </PublishBatchResult></PublishBatchResponse>`;
  await withFakeAws(() => xmlAnswer(200, failed), async (fake) => {
    const outbox = new SnsOutbox({ sns: fake.snsClient(), awsHttp: "fetch" });
    const topicArn = "arn:aws:sns:us-east-1:123456789012:replies";
    const message = { jsonrpc: "2.0" as const, method: "notifications/message" };
    const [first, second] = await Promise.allSettled([
      outbox.send(topicArn, { message, sessionId: "a" }),
      outbox.send(topicArn, { message, sessionId: "b" }),
    ]);
    assert.deepEqual(fake.requests.map((request) => request.operation), ["PublishBatch"]);
    assert.equal(first.status, "fulfilled");
    assert.equal(second.status, "rejected");
    const error = (second as PromiseRejectedResult).reason;
    assertBrokerError(error, {
      operation: "SNS PublishBatch",
      code: "InvalidParameter",
      retryable: false,
    });
    assert.match(error.message, /<MessageAttributes> & more/);
  });
});
