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
await pool(bodies, Number(clients), async (body) => {
  const s = performance.now();
  const res = await fetch(`${url}/v1/batch`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body,
  });
  const json: unknown = await res.json();
  const rejected =
    typeof json === "object" && json !== null && "rejected" in json && Array.isArray(json.rejected);
  if (res.status !== 200 || !rejected || (json.rejected as unknown[]).length > 0) {
    throw new Error(`batch failed: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  }
  latencies.push(performance.now() - s);
});
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }));
