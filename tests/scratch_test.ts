import { z } from "zod";
import { startBroker } from "../examples/embedded_broker.ts";
import { SqsClientTransport, SqsServer } from "../transports/sqs.ts";
import { Client, McpServer } from "../sdk.ts";

Deno.test("scratch", async () => {
  const broker = await startBroker();
  const sqs = broker.sqsClient();
  const req = await broker.createQueue(sqs, "req");
  const res = await broker.createQueue(sqs, "res");
  const server = new SqsServer({
    sqs,
    requestQueueUrl: req.url,
    createServer: () => {
      const s = new McpServer({ name: "t", version: "1" });
      s.registerTool(
        "echo",
        { inputSchema: { text: z.string() } },
        ({ text }) => ({ content: [{ type: "text", text }] }),
      );
      return s;
    },
  });
  await server.start();
  const client = new Client({ name: "c", version: "1" });
  await client.connect(
    new SqsClientTransport({ sqs, requestQueueUrl: req.url, responseQueueUrl: res.url }),
  );
  const t0 = performance.now();
  console.log(await client.listTools());
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await client.callTool({ name: "echo", arguments: { text: "hi" + i } });
    console.log(JSON.stringify(r), (performance.now() - t).toFixed(2));
  }
  await client.close();
  await server.close();
  sqs.destroy();
  await broker.close();
});
