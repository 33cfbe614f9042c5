import assert from "node:assert/strict";
import { parseArn, parseQueueUrl, sameAccountAndRegion } from "../transports/aws/aws_address.ts";

Deno.test("parseQueueUrl() reads account and region from an AWS queue URL", () => {
  assert.deepEqual(parseQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"), {
    account: "123456789012",
    region: "eu-west-1",
    partition: "aws",
    origin: "https://sqs.eu-west-1.amazonaws.com",
    canonical: true,
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
    partition: "aws",
    name: "replies",
    service: "sns",
  });
});

Deno.test("sameAccountAndRegion() allows queues of the same account and region only", () => {
  const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
  assert.equal(policy("https://sqs.us-east-1.amazonaws.com/123456789012/replies"), true);
  assert.match(
    String(policy("https://sqs.us-east-1.amazonaws.com/210987654321/replies")),
    /another account/,
  );
  assert.match(
    String(policy("https://sqs.eu-west-1.amazonaws.com/123456789012/replies")),
    /region eu-west-1, not us-east-1/,
  );
  assert.match(String(policy("http://169.254.169.254/latest/meta-data")), /neither an SQS/);
});

Deno.test("sameAccountAndRegion() refuses hosts that only look like AWS's", () => {
  const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
  for (
    const lookalike of [
      "https://sqs.us-east-1.attacker.example/123456789012/loot",
      "https://sqs.us-east-1.amazonaws.com.attacker.example/123456789012/loot",
      "https://us-east-1.queue.amazonaws.com.evil.example/123456789012/loot",
      "https://sqs.us-east-1.10.0.0.5/123456789012/loot",
      "https://evilsqs.us-east-1.amazonaws.com/123456789012/loot",
      "https://sqs.us-east-1.amazonaws.com./123456789012/loot",
    ]
  ) {
    assert.match(String(policy(lookalike)), /host is neither this server's endpoint nor AWS's/);
  }
});

Deno.test("sameAccountAndRegion() refuses AWS hosts over plain HTTP or on another port", () => {
  const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
  assert.match(
    String(policy("http://sqs.us-east-1.amazonaws.com/123456789012/replies")),
    /neither this server's endpoint nor AWS's/,
  );
  assert.match(
    String(policy("https://sqs.us-east-1.amazonaws.com:8443/123456789012/replies")),
    /neither this server's endpoint nor AWS's/,
  );
});

Deno.test("sameAccountAndRegion() allows AWS's FIPS, dual-stack and legacy hosts of the region", () => {
  const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
  for (
    const host of [
      "sqs-fips.us-east-1.amazonaws.com",
      "sqs.us-east-1.api.aws",
      "us-east-1.queue.amazonaws.com",
      "SQS.US-EAST-1.AMAZONAWS.COM:443",
    ]
  ) {
    assert.equal(policy(`https://${host}/123456789012/replies`), true, host);
  }
});

Deno.test("sameAccountAndRegion() keeps the China and GovCloud partitions apart", () => {
  const china = sameAccountAndRegion("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q");
  assert.equal(china("https://cn-north-1.queue.amazonaws.com.cn/123456789012/replies"), true);
  assert.equal(china("arn:aws-cn:sns:cn-north-1:123456789012:replies"), true);
  assert.match(
    String(china("arn:aws:sns:cn-north-1:123456789012:replies")),
    /partition aws, not aws-cn/,
  );
  const gov = sameAccountAndRegion("arn:aws-us-gov:sns:us-gov-west-1:123456789012:requests");
  assert.equal(gov("arn:aws-us-gov:sns:us-gov-west-1:123456789012:replies"), true);
  assert.match(
    String(gov("arn:aws:sns:us-gov-west-1:123456789012:replies")),
    /partition aws, not aws-us-gov/,
  );
});

Deno.test("sameAccountAndRegion() allows only the request queue's own origin on a local broker", () => {
  const policy = sameAccountAndRegion("http://sqs.us-east-1.127.0.0.1:4566/000000000000/requests");
  assert.equal(policy("http://sqs.us-east-1.127.0.0.1:4566/000000000000/replies"), true);
  assert.match(
    String(policy("http://sqs.us-east-1.127.0.0.1:4567/000000000000/replies")),
    /neither this server's endpoint/,
  );
  assert.match(
    String(policy("https://sqs.us-east-1.amazonaws.com/000000000000/replies")),
    /does not use AWS's own endpoints/,
  );
});

Deno.test("sameAccountAndRegion() compares origins when queue URLs name no region", () => {
  const policy = sameAccountAndRegion("http://localhost:4566/000000000000/requests");
  assert.equal(policy("http://localhost:4566/000000000000/replies"), true);
  assert.match(
    String(policy("http://evil.example:4566/000000000000/replies")),
    /neither this server's endpoint/,
  );
});

Deno.test("sameAccountAndRegion() compares partition, region, account and service of ARNs", () => {
  const policy = sameAccountAndRegion("arn:aws:sns:us-east-1:123456789012:requests");
  assert.equal(policy("arn:aws:sns:us-east-1:123456789012:replies"), true);
  assert.match(String(policy("arn:aws:sns:us-east-2:123456789012:replies")), /region us-east-2/);
  assert.match(String(policy("arn:aws:sns:us-east-1:999999999999:replies")), /another account/);
  assert.match(String(policy("arn:aws:sqs:us-east-1:123456789012:replies")), /for sqs, not sns/);
});

Deno.test("sameAccountAndRegion() throws a TypeError for an address it cannot read", () => {
  assert.throws(() => sameAccountAndRegion("requests"), TypeError);
});
