import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export type MediaRequest = { path: string; authorization: string | undefined };

/**
 * A local stand-in for Twilio's media URLs: serves the files it is given under
 * `/2010-04-01/Accounts/<sid>/Messages/<sid>/Media/<sid>`, only with the account's Basic
 * credentials (401 otherwise), 404 for anything else, and records every request.
 */
export async function startFakeTwilioMedia(account: { accountSid: string; authToken: string }) {
  const files = new Map<string, { contentType: string; data: Buffer }>();
  const requests: MediaRequest[] = [];
  const expected = `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString("base64")}`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    requests.push({ path, authorization: req.headers.authorization });
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: 20003, message: "Authenticate", status: 401 }));
      return;
    }
    const file = files.get(path);
    if (!file) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: 20404, message: "The requested resource was not found", status: 404 }));
      return;
    }
    res.writeHead(200, { "content-type": file.contentType, "content-length": String(file.data.length) });
    res.end(file.data);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake media server has no port");
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    requests,
    /** Serves a file at `path`; returns its full URL. */
    serve(path: string, contentType: string, data: Buffer): string {
      files.set(path, { contentType, data });
      return `${url}${path}`;
    },
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
