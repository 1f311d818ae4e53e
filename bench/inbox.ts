import http from "node:http";
import pino from "pino";
import WebSocket from "ws";
import { loadConfig } from "../src/config.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import { buildApp } from "../src/http/app.ts";
import { createApiKey } from "../src/platform/api-keys.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { type Backend, type BenchArgs, type Figure, freshDatabase, percentile } from "./harness.ts";

const RATE = 200;
const AGENTS = 20;
const PUBLIC_URL = "https://rapport.bench";
const ACCOUNT = { accountSid: `AC${"0a".repeat(16)}`, authToken: "bench-token" };

type Post = (path: string, form: URLSearchParams, headers: Record<string, string>) => Promise<number>;

function poster(base: string): Post {
  // enough sockets that requests never queue in the client: the latency measured is the server's
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
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

/**
 * `inbox`: signed inbound SMS webhooks at 200 messages/s while 20 agents listen on the live
 * feed; the latency from the webhook sent to the message seen by each agent, beside the latency
 * of a bare HTTP route (/health) asked at the same pace in the same run. Lost messages must be 0.
 */
export async function benchInbox(args: BenchArgs, backend: Backend): Promise<Figure[]> {
  const n = args.size ?? RATE * 60;
  const { database, cleanup } = await freshDatabase(backend, args.databaseUrl);
  const config = loadConfig({
    LOG_LEVEL: "silent",
    RAPPORT_DATA_DIR: "./.bench",
    RAPPORT_PUBLIC_URL: PUBLIC_URL,
  });
  const app = await buildApp({ config, database, logger: pino({ level: "silent" }) });
  try {
    const ws = await createWorkspace(database.db, { name: "Bench inbox", slug: "bench-inbox" });
    const { token } = await createApiKey(database.db, { workspaceId: ws.id, kind: "secret" });
    const inbox = await createInbox(database.db, ws.id, {
      kind: "sms",
      name: "Support line",
      address: "+15005550006",
      config: ACCOUNT,
    });
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
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

    const path = `/webhooks/twilio/${ws.id}/inbox/${inbox.id}`;
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
        To: "+15005550006",
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
    while (
      performance.now() < deadline &&
      [...sentAt.keys()].some((k) => (seen.get(k)?.length ?? 0) < AGENTS)
    ) {
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
      `inbox on ${backend}: ${n} signed SMS webhooks at ${Math.round(n / secs)}/s to ${AGENTS} agents: ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms to every agent; ` +
        `lost ${lost}; webhook errors ${failures.length}; webhook answered p50 ${percentile(answered, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(answered, 99).toFixed(1)} ms; bare /health p50 ${percentile(bare, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(bare, 99).toFixed(1)} ms`,
    );
    if (lost > 0 || failures.length > 0)
      throw new Error(`${lost} messages lost, ${failures.length} webhooks refused`);
    return [
      {
        figure: `inbox ${backend} p99`,
        value: percentile(latencies, 99),
        unit: "ms",
        reference: percentile(bare, 99),
        refUnit: "ms (bare /health p99)",
      },
      {
        figure: `inbox ${backend} p50`,
        value: percentile(latencies, 50),
        unit: "ms",
        reference: percentile(bare, 50),
        refUnit: "ms (bare /health p50)",
      },
    ];
  } finally {
    await app.close();
    await cleanup();
  }
}
