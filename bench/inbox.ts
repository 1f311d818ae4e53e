import { spawn } from "node:child_process";
import pino from "pino";
import { z } from "zod";
import { loadConfig } from "../src/config.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import { buildApp } from "../src/http/app.ts";
import { createApiKey } from "../src/platform/api-keys.ts";
import { createWorkspace } from "../src/platform/workspaces.ts";
import { type Backend, type BenchArgs, type Figure, freshDatabase } from "./harness.ts";

const RATE = 200;
const AGENTS = 20;
const PUBLIC_URL = "https://rapport.bench";
const ACCOUNT = { accountSid: `AC${"0a".repeat(16)}`, authToken: "bench-token" };

const ClientResult = z.object({
  rate: z.number(),
  p50: z.number(),
  p99: z.number(),
  lost: z.number(),
  failures: z.number(),
  answeredP50: z.number(),
  answeredP99: z.number(),
  bareP50: z.number(),
  bareP99: z.number(),
});

/** Runs bench/inbox-client.ts (the webhook sender and the agents) in a process of its own. */
function runClient(args: Record<string, unknown>): Promise<z.infer<typeof ClientResult>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bench/inbox-client.ts", JSON.stringify(args)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += String(d);
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the client process failed (${code}): ${out}`));
      const parsed = ClientResult.safeParse(JSON.parse(out.trim().split("\n").pop() ?? "{}"));
      if (!parsed.success) return reject(new Error(`unexpected client output: ${out}`));
      resolve(parsed.data);
    });
  });
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
    const r = await runClient({
      base,
      token,
      path: `/webhooks/twilio/${ws.id}/inbox/${inbox.id}`,
      n,
      rate: RATE,
      agents: AGENTS,
      publicUrl: PUBLIC_URL,
      accountSid: ACCOUNT.accountSid,
      authToken: ACCOUNT.authToken,
      to: "+15005550006",
    });
    console.log(
      `inbox on ${backend}: ${n} signed SMS webhooks at ${Math.round(r.rate)}/s to ${AGENTS} agents: ` +
        `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms to every agent; ` +
        `lost ${r.lost}; webhook errors ${r.failures}; webhook answered p50 ${r.answeredP50.toFixed(1)} ms, ` +
        `p99 ${r.answeredP99.toFixed(1)} ms; bare /health p50 ${r.bareP50.toFixed(1)} ms, ` +
        `p99 ${r.bareP99.toFixed(1)} ms`,
    );
    if (r.lost > 0 || r.failures > 0)
      throw new Error(`${r.lost} messages lost, ${r.failures} webhooks refused`);
    return [
      {
        figure: `inbox ${backend} p99`,
        value: r.p99,
        unit: "ms",
        reference: r.bareP99,
        refUnit: "ms (bare /health p99)",
      },
      {
        figure: `inbox ${backend} p50`,
        value: r.p50,
        unit: "ms",
        reference: r.bareP50,
        refUnit: "ms (bare /health p50)",
      },
    ];
  } finally {
    await app.close();
    await cleanup();
  }
}
