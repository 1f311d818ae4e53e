import http from "node:http";
import { percentile, pool } from "./harness.ts";
import { makeEvents } from "./ingest-events.ts";

// `ingest-client <url> <writeKey> <events> <batch> <clients>`: the load generator of the
// ingest benchmark, in a process of its own. Prints one JSON line: seconds and latencies.
const [url, writeKey, n, batch, clients] = process.argv.slice(2);
if (!url || !writeKey) throw new Error("usage: ingest-client <url> <writeKey> <events> <batch> <clients>");
const events = makeEvents(Number(n));
const size = Number(batch);
const bodies: string[] = [];
for (let i = 0; i < events.length; i += size) {
  bodies.push(JSON.stringify({ batch: events.slice(i, i + size), sentAt: new Date().toISOString() }));
}
const auth = `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}`;
const latencies: number[] = [];
const t0 = performance.now();
// node:http with keep-alive: a lean client, so the load generator takes as little of the
// machine's CPU as it can from the server it measures (fetch costs about three times more)
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(clients) });
const target = new URL("/v1/batch", url);
function post(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      {
        method: "POST",
        agent,
        headers: {
          authorization: auth,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
await pool(bodies, Number(clients), async (body) => {
  const s = performance.now();
  const res = await post(body);
  const json: unknown = JSON.parse(res.text);
  const rejected =
    typeof json === "object" && json !== null && "rejected" in json && Array.isArray(json.rejected);
  if (res.status !== 200 || !rejected || (json.rejected as unknown[]).length > 0) {
    throw new Error(`batch failed: ${res.status} ${res.text.slice(0, 300)}`);
  }
  latencies.push(performance.now() - s);
});
agent.destroy();
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }));
