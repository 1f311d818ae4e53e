import net from "node:net";
import { percentile } from "./harness.ts";
import { makeEvents } from "./ingest-events.ts";

// `ingest-client <url> <writeKey> <events> <batch> <clients>`: the load generator of the
// ingest benchmark, in a process of its own. Prints one JSON line: seconds, latencies, and
// the CPU this process used per event while sending.
const [url, writeKey, n, batch, clients] = process.argv.slice(2);
if (!url || !writeKey) throw new Error("usage: ingest-client <url> <writeKey> <events> <batch> <clients>");
const total = Number(n);
const size = Number(batch);
const target = new URL("/v1/batch", url);
const auth = `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}`;

// Every request is encoded up front, head and body in one buffer, and the events let go: the
// load generator shares the machine with the server it measures, so sending must cost as
// little as it can (node:http costs about 0.6 ms of CPU per request here, fetch more).
const requests: Buffer[] = [];
{
  const events = makeEvents(total);
  for (let i = 0; i < events.length; i += size) {
    const body = Buffer.from(
      JSON.stringify({ batch: events.slice(i, i + size), sentAt: new Date().toISOString() }),
    );
    const head =
      `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: ${auth}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
    requests.push(Buffer.concat([Buffer.from(head), body]));
  }
}
// the events are garbage now: collect them before the clock starts, so the collector's threads
// do not run beside the server during the measured run (the parent passes --expose-gc)
(globalThis as { gc?: () => void }).gc?.();

type Response = { status: number; body: string };

/** One keep-alive connection sending requests one after the other (HTTP/1.1, no pipelining). */
async function connection(): Promise<(request: Buffer) => Promise<Response>> {
  const socket = net.connect(Number(target.port), target.hostname);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let pending: { resolve(r: Response): void; reject(e: Error): void } | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = buffered.subarray(0, end).toString("latin1");
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      pending?.reject(new Error(`a response without content-length: ${head}`));
      return;
    }
    const bodyEnd = end + 4 + Number(length[1]);
    if (buffered.length < bodyEnd) return;
    const status = Number(head.slice(9, 12));
    const body = buffered.subarray(end + 4, bodyEnd).toString();
    buffered = buffered.subarray(bodyEnd);
    const p = pending;
    pending = undefined;
    p?.resolve({ status, body });
  });
  socket.on("error", (err) => pending?.reject(err));
  socket.on("close", () => pending?.reject(new Error("the server closed the connection")));
  return (request) =>
    new Promise<Response>((resolve, reject) => {
      pending = { resolve, reject };
      socket.write(request);
    });
}

const connections = await Promise.all(Array.from({ length: Number(clients) }, connection));
const latencies: number[] = [];
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let next = 0;
await Promise.all(
  connections.map(async (send) => {
    while (next < requests.length) {
      const request = requests[next++];
      if (request === undefined) break;
      const s = performance.now();
      const res = await send(request);
      const json: unknown = JSON.parse(res.body);
      const rejected =
        typeof json === "object" && json !== null && "rejected" in json && Array.isArray(json.rejected);
      if (res.status !== 200 || !rejected || (json.rejected as unknown[]).length > 0) {
        throw new Error(`batch failed: ${res.status} ${res.body.slice(0, 300)}`);
      }
      latencies.push(performance.now() - s);
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuPerEvent: (cpu.user + cpu.system) / total,
  }),
);
process.exit(0);
