import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/** One request the receiver got, as it arrived (the exact body bytes, for signature checks). */
export type ReceivedRequest = {
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
};

/** How to answer one request: a status (and headers, body), or never answer at all. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang";

export type FakeWebhookReceiver = {
  /** A URL on this receiver (127.0.0.1 and its port). */
  url(path?: string): string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests to one path. */
  to(path: string): ReceivedRequest[];
  /** Answers the next requests to `path` with these replies in order; then 200 again. */
  script(path: string, replies: Reply[]): void;
  /** Resolves once `count` requests reached `path` (any path when omitted), or fails after `timeoutMs`. */
  waitFor(count: number, path?: string, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
};

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/**
 * A stand-in for a brand's webhook receiver: an HTTP server on 127.0.0.1 that records every
 * request and answers as the test scripted (200 by default).
 */
export async function startFakeWebhookReceiver(): Promise<FakeWebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripts = new Map<string, Reply[]>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      requests.push({
        at: Date.now(),
        method: req.method ?? "",
        path,
        headers: flatHeaders(req),
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const reply = scripts.get(path)?.shift() ?? { status: 200, body: "ok" };
      if (reply === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the receiver has no TCP address");
  const { port } = address;
  const to = (path: string) => requests.filter((r) => r.path === path);
  return {
    port,
    requests,
    url: (path = "/hook") => `http://127.0.0.1:${port}${path}`,
    to,
    script(path, replies) {
      scripts.set(path, [...replies]);
    },
    async waitFor(count, path, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = path === undefined ? requests : to(path);
        if (got.length >= count) return got;
        if (Date.now() > deadline) {
          throw new Error(
            `the receiver got ${got.length} of ${count} requests to ${path ?? "any path"} in ${timeoutMs} ms`,
          );
        }
        await sleep(20);
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
