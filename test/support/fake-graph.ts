import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";

/** One call the fake Graph API received. */
export type GraphRequest = { method: string; path: string; headers: IncomingHttpHeaders; json: unknown };

/** A scripted Graph answer: status and JSON body (Graph errors are `{ error: { message, code… } }`). */
export type GraphAnswer = { status: number; body: unknown };

/** Graph's error body. */
export function graphError(
  status: number,
  code: number,
  message: string,
  extra: { subcode?: number; type?: string } = {},
): GraphAnswer {
  return {
    status,
    body: {
      error: {
        message,
        type: extra.type ?? "OAuthException",
        code,
        ...(extra.subcode !== undefined ? { error_subcode: extra.subcode } : {}),
        fbtrace_id: `A${randomBytes(8).toString("hex")}`,
      },
    },
  };
}

const VERSION = "/v21.0";
const MEDIA_TYPES: Record<string, string> = { png: "image/png", pdf: "application/pdf", jpg: "image/jpeg" };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

const field = (value: unknown, ...path: string[]): unknown => {
  let v = value;
  for (const p of path) v = v && typeof v === "object" ? Reflect.get(v, p) : undefined;
  return v;
};

/**
 * A local stand-in for the Graph API at `{url}/v21.0` and for Meta's media CDN: checks the
 * bearer token, answers the Send API (`/{node}/messages`: `{ recipient_id, message_id }`),
 * comment replies (`/{id}/comments`, `/{id}/replies`: `{ id }`), reads of the posts given to
 * `setPost` (`GET /{id}?fields=…`: the fields asked for; an unknown id gets Graph's code 100)
 * and Graph's errors for bodies it would refuse; records every call. `GET /media/<name>` serves a file's bytes (or 404 for
 * names starting with `missing`), so attachment URLs can point here.
 */
export async function startFakeGraph(token: string) {
  const requests: GraphRequest[] = [];
  const scripted: GraphAnswer[] = [];
  // posts and media readable with `GET /{id}?fields=…`
  const posts = new Map<string, Record<string, unknown>>();
  const answer = (req: GraphRequest): GraphAnswer => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token");
    }
    const next = scripted.shift();
    if (next) return next;
    const path = req.path.slice(VERSION.length);
    const messages = /^\/([^/]+)\/messages$/.exec(path);
    if (req.method === "POST" && messages) {
      const recipient = field(req.json, "recipient", "id") ?? field(req.json, "recipient", "comment_id");
      const text = field(req.json, "message", "text");
      if (typeof recipient !== "string")
        return graphError(400, 100, "(#100) The parameter recipient is required");
      if (typeof text !== "string" || text.length === 0) {
        return graphError(400, 100, "(#100) Param message[text] must be a non-empty UTF-8 encoded string");
      }
      return {
        status: 200,
        body: { recipient_id: recipient, message_id: `m_${randomBytes(24).toString("base64url")}` },
      };
    }
    const node = /^\/([^/?]+)\?fields=([^&]*)$/.exec(path);
    if (req.method === "GET" && node) {
      const id = decodeURIComponent(node[1] ?? "");
      const post = posts.get(id);
      if (!post) {
        return graphError(
          400,
          100,
          `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          { subcode: 33, type: "GraphMethodException" },
        );
      }
      // Graph answers the fields asked for (and the id), never the others
      const fields = decodeURIComponent(node[2] ?? "").split(",");
      return {
        status: 200,
        body: { ...Object.fromEntries(Object.entries(post).filter(([k]) => fields.includes(k))), id },
      };
    }
    const reply = /^\/([^/]+)\/(comments|replies)$/.exec(path);
    if (req.method === "POST" && reply) {
      if (typeof field(req.json, "message") !== "string") {
        return graphError(400, 100, "(#100) Missing message or attachment");
      }
      const parent = decodeURIComponent(reply[1] ?? "");
      const prefix = parent.includes("_") ? `${parent.split("_")[0]}_` : "";
      return { status: 200, body: { id: `${prefix}${BigInt(`0x${randomBytes(7).toString("hex")}`)}` } };
    }
    return graphError(400, 803, "(#803) Some of the aliases you requested do not exist", {
      type: "OAuthException",
    });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      const url = req.url ?? "";
      if (req.method === "GET" && url.startsWith("/media/")) {
        const name = url.slice("/media/".length).split("?")[0] ?? "";
        if (name.startsWith("missing")) {
          res.writeHead(404);
          res.end();
          return;
        }
        const ext = name.split(".").pop() ?? "";
        res.writeHead(200, { "content-type": MEDIA_TYPES[ext] ?? "application/octet-stream" });
        res.end(Buffer.from(`bytes of ${name}`));
        return;
      }
      let json: unknown;
      try {
        json = raw ? JSON.parse(raw) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: GraphRequest = { method: req.method ?? "", path: url, headers: req.headers, json };
      requests.push(recorded);
      const a = answer(recorded);
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(JSON.stringify(a.body));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the fake Graph server has no port");
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    /** The base URL to give an inbox as `graphBaseUrl`. */
    graphBaseUrl: `${url}${VERSION}`,
    requests,
    /** Makes a post (Facebook fields) or a media (Instagram fields) readable by its id. */
    setPost: (id: string, fields: Record<string, unknown>) => posts.set(id, fields),
    /** Queues answers given, in order, before the fake answers on its own again. */
    answerNext: (...answers: GraphAnswer[]) => scripted.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type FakeGraph = Awaited<ReturnType<typeof startFakeGraph>>;

/**
 * A webhook payload under test/fixtures/meta/, as the bytes Meta would post; `replace` swaps
 * strings in it (a mid, a CDN host) so the bytes stay as written around them.
 */
export function metaFixture(name: string, replace: Record<string, string> = {}): string {
  let text = readFileSync(`test/fixtures/meta/${name}.json`, "utf8");
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  return text;
}

/** Signs a body as Meta does: `sha256=` and the HMAC-SHA256 of the raw bytes, keyed by the app secret. */
export function signMeta(body: string, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(body, "utf8").digest("hex")}`;
}
