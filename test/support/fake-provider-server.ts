import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";

/** One request a fake provider received, as it came. */
export type RecordedRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Form fields (a repeated name becomes a list), for form posts. */
  form: Record<string, string | string[]>;
  /** The parsed body, for JSON posts. */
  json: unknown;
};

/** A scripted answer: status, JSON body, headers, and a delay before answering (to test timeouts). */
export type FakeAnswer = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
};

export type Handler = (req: RecordedRequest) => FakeAnswer | Promise<FakeAnswer>;

/** Parses a form body the way a provider would, keeping repeated names. */
export function parseForm(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A local HTTP server that records every request and answers with the next scripted answer,
 * or what `handler` says. Shared by the provider fakes.
 */
export async function startRecordingServer(handler: Handler): Promise<{
  url: string;
  requests: RecordedRequest[];
  /** Queues answers given, in order, before the handler is asked again. */
  answerNext(...answers: FakeAnswer[]): void;
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const scripted: FakeAnswer[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const rawBody = await readBody(req);
      const type = req.headers["content-type"] ?? "";
      let json: unknown;
      if (type.includes("json")) {
        try {
          json = JSON.parse(rawBody);
        } catch {
          json = undefined;
        }
      }
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        rawBody,
        form: type.includes("x-www-form-urlencoded") ? parseForm(rawBody) : {},
        json,
      };
      requests.push(recorded);
      const answer = scripted.shift() ?? (await handler(recorded));
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (res.destroyed) return;
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the fake server has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    answerNext: (...answers) => scripted.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
