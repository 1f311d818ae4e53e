import http from "node:http";
import WebSocket from "ws";
import { z } from "zod";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import { percentile } from "./harness.ts";

// `inbox-client <json>`: the load generator of the inbox benchmark, in a process of its own so
// the agents' sockets and the signing take nothing from the server's event loop (as real agents'
// browsers and Twilio's servers would not). It both sends and sees each message, so the
// latencies need no clock shared across processes. Prints one JSON line.
const Args = z
  .object({
    base: z.string(),
    token: z.string(),
    path: z.string(),
    n: z.number().int().positive(),
    rate: z.number().positive(),
    agents: z.number().int().positive(),
    publicUrl: z.string(),
    accountSid: z.string(),
    authToken: z.string(),
    to: z.string(),
  })
  .parse(JSON.parse(process.argv[2] ?? "{}"));
const { base, token, path, n, agents: AGENTS, rate: RATE, publicUrl: PUBLIC_URL } = Args;
const ACCOUNT = { accountSid: Args.accountSid, authToken: Args.authToken };

type Post = (path: string, form: URLSearchParams, headers: Record<string, string>) => Promise<number>;

function poster(base: string): Post {
  // enough sockets that requests never queue in the client: the latency measured is the server's.
  // Sockets are taken in turn (fifo), as many senders would: the default (lifo) keeps reusing the
  // few hottest sockets, and a server that falls behind then shows it on a few requests only
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024, scheduling: "fifo" });
  const once = (path: string, form: URLSearchParams, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const body = form.toString();
      const req = http.request(
        new URL(path, base),
        {
          method: path === "/health" ? "GET" : "POST",
          agent,
          headers:
            path === "/health"
              ? {}
              : {
                  "content-type": "application/x-www-form-urlencoded",
                  "content-length": Buffer.byteLength(body),
                  ...headers,
                },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(path === "/health" ? undefined : body);
    });
  // a kept-alive socket the server closed just as it was reused: send again (webhooks are
  // idempotent by MessageSid, as Twilio's own retries rely on)
  return async (path, form, headers) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(path, form, headers);
      } catch (err) {
        const code = err instanceof Error && "code" in err ? String(err.code) : undefined;
        if (attempt >= 3 || (code !== "ECONNRESET" && code !== "EPIPE")) throw err;
      }
    }
  };
}

const post = poster(base);
// the agents: each records when it saw each message
const seen = new Map<string, number[]>();
const sockets = await Promise.all(
  Array.from(
    { length: AGENTS },
    () =>
      new Promise<WebSocket>((resolve, reject) => {
        const s = new WebSocket(`${base.replace("http", "ws")}/api/v1/realtime`, {
          headers: { authorization: `Bearer ${token}` },
        });
        s.on("message", (data) => {
          const m = JSON.parse(String(data)) as { type?: string; providerMessageId?: string };
          if (m.type === "ready") resolve(s);
          if (m.type === "message.created" && m.providerMessageId) {
            const list = seen.get(m.providerMessageId) ?? [];
            list.push(performance.now());
            seen.set(m.providerMessageId, list);
          }
        });
        s.on("error", reject);
      }),
  ),
);

const sentAt = new Map<string, number>();
const bare: number[] = [];
const answered: number[] = [];
const failures: number[] = [];
const inflight: Array<Promise<void>> = [];
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  // paced: message i leaves at i / RATE seconds
  const due = t0 + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const sid = `SM${i.toString(16).padStart(32, "0")}`;
  const params = {
    MessageSid: sid,
    AccountSid: ACCOUNT.accountSid,
    From: `+3361${String(i % 500).padStart(7, "0")}`,
    To: Args.to,
    Body: `Message ${i}`,
    NumMedia: "0",
  };
  const signature = twilioSignature(ACCOUNT.authToken, `${PUBLIC_URL}${path}`, params);
  const sent = performance.now();
  sentAt.set(sid, sent);
  inflight.push(
    post(path, new URLSearchParams(params), { "x-twilio-signature": signature }).then(
      (status) => {
        answered.push(performance.now() - sent);
        if (status !== 200) failures.push(status);
      },
      () => void failures.push(0),
    ),
  );
  if (i % 10 === 0) {
    const s = performance.now();
    inflight.push(
      post("/health", new URLSearchParams(), {}).then(() => void bare.push(performance.now() - s)),
    );
  }
}
await Promise.all(inflight);
// whatever has not reached every agent 30 seconds after the last send is lost
const deadline = performance.now() + 30_000;
while (performance.now() < deadline && [...sentAt.keys()].some((k) => (seen.get(k)?.length ?? 0) < AGENTS)) {
  await new Promise((r) => setTimeout(r, 50));
}
const latencies: number[] = [];
let lost = 0;
for (const [sid, at] of sentAt) {
  const got = seen.get(sid) ?? [];
  if (got.length < AGENTS) lost++;
  for (const g of got) latencies.push(g - at);
}
for (const s of sockets) s.close();
latencies.sort((a, b) => a - b);
bare.sort((a, b) => a - b);
answered.sort((a, b) => a - b);
const secs = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    rate: n / secs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    lost,
    failures: failures.length,
    answeredP50: percentile(answered, 50),
    answeredP99: percentile(answered, 99),
    bareP50: percentile(bare, 50),
    bareP99: percentile(bare, 99),
  }),
);
process.exit(0);
