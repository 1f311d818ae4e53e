import http from "node:http";
import https from "node:https";
import { type Destination, pinnedLookup } from "./ssrf.ts";

/** What one POST came to: a response (any status), or no response at all. */
export type PostResult =
  | { kind: "response"; status: number; retryAfter?: string; location?: string; body: string }
  | { kind: "error"; error: string };

// enough of the receiver's answer to explain a failure on the message row
const BODY_KEPT = 512;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * POSTs one delivery to a checked destination. The socket connects to the pinned address
 * only; redirects are never followed (a 3xx is just a status); the whole exchange is bounded
 * by `timeoutMs` and by `signal` (the job's). Never throws: failures are results.
 */
export function postWebhook(
  destination: Destination,
  init: { headers: Record<string, string>; body: string; timeoutMs: number; signal?: AbortSignal },
): Promise<PostResult> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
  const request = destination.url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const failure = (err: unknown): PostResult => {
      if (timeout.aborted) return { kind: "error", error: `timed out after ${init.timeoutMs} ms` };
      if (init.signal?.aborted) return { kind: "error", error: "interrupted: the worker stopped" };
      const text = err instanceof Error ? err.message : String(err);
      const code = err instanceof Error && "code" in err ? ` (${String(err.code)})` : "";
      return { kind: "error", error: `no response: ${text}${code}` };
    };
    const req = request(
      destination.url,
      {
        method: "POST",
        headers: { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) },
        // a fresh connection each time: a pooled socket could outlive the address check
        agent: false,
        lookup: pinnedLookup(destination),
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          settle({
            kind: "response",
            status: res.statusCode ?? 0,
            retryAfter: header(res.headers["retry-after"]),
            location: res.headers.location,
            body: Buffer.concat(chunks).toString("utf8").slice(0, BODY_KEPT),
          });
          // the rest of a large answer is not worth reading
          res.destroy();
        };
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= BODY_KEPT) done();
        });
        res.on("end", done);
        // the status is known by now: a body cut short does not change what the receiver answered
        res.on("error", done);
        res.on("close", done);
      },
    );
    req.on("error", (err) => settle(failure(err)));
    req.end(init.body);
  });
}
