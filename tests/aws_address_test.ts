import assert from "node:assert/strict";
import { parseArn, parseQueueUrl, sameAccountAndRegion } from "../transports/aws/aws_address.ts";

Deno.test("parseQueueUrl() reads account and region from an AWS queue URL", () => {
  assert.deepEqual(parseQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"), {
    account: "123456789012",
    region: "eu-west-1",
    origin: "https://sqs.eu-west-1.amazonaws.com",
    name: "jobs",
  });
});

Deno.test("parseQueueUrl() reads the legacy region.queue.amazonaws.com host", () => {
  assert.equal(
    parseQueueUrl("https://us-west-2.queue.amazonaws.com/123456789012/q")?.region,
    "us-west-2",
  );
});

Deno.test("parseQueueUrl() reads the embedded broker's sqs.region.127.0.0.1 host", () => {
  const parsed = parseQueueUrl("http://sqs.us-east-1.127.0.0.1:4566/000000000000/q.fifo");
  assert.equal(parsed?.region, "us-east-1");
  assert.equal(parsed?.name, "q.fifo");
});

Deno.test("parseQueueUrl() refuses URLs that are not queue URLs", () => {
  for (
    const url of [
      "file:///etc/passwd",
      "https://sqs.us-east-1.amazonaws.com/jobs",
      "https://sqs.us-east-1.amazonaws.com/123456789012/jobs/extra",
      "not a url",
    ]
  ) {
    assert.equal(parseQueueUrl(url), undefined, url);
  }
});

Deno.test("parseArn() reads account and region from an SNS topic ARN", () => {
  assert.deepEqual(parseArn("arn:aws:sns:us-east-1:123456789012:replies"), {
    account: "123456789012",
    region: "us-east-1",
    name: "replies",
    service: "sns",
  });
});

Deno.test("sameAccountAndRegion() allows queues of the same account and region only", () => {
  const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
  assert.equal(policy("https://sqs.us-east-1.amazonaws.com/123456789012/replies"), true);
  assert.equal(policy("https://sqs.us-east-1.amazonaws.com/210987654321/replies"), false);
  assert.equal(policy("https://sqs.eu-west-1.amazonaws.com/123456789012/replies"), false);
  assert.equal(policy("http://169.254.169.254/latest/meta-data"), false);
});

Deno.test("sameAccountAndRegion() compares origins when queue URLs name no region", () => {
  const policy = sameAccountAndRegion("http://localhost:4566/000000000000/requests");
  assert.equal(policy("http://localhost:4566/000000000000/replies"), true);
  assert.equal(policy("http://evil.example:4566/000000000000/replies"), false);
});

Deno.test("sameAccountAndRegion() throws a TypeError for an address it cannot read", () => {
  assert.throws(() => sameAccountAndRegion("requests"), TypeError);
});
