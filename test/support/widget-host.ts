import { createServer, type Server } from "node:http";

export type HostSite = { url: string; close(): Promise<void> };

/**
 * A brand's web page on its own origin (another port of the loopback), embedding the chat
 * widget with the snippet, as a brand would paste it.
 */
export async function hostSite(
  rapportUrl: string,
  snippet: { workspaceId: string; inboxId: string },
): Promise<HostSite> {
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Melodia</title>
</head>
<body>
<main>
<h1>Melodia</h1>
<p>Music for everyone, on every device.</p>
</main>
<script async src="${rapportUrl}/widget/v1/loader.js" data-workspace="${snippet.workspaceId}" data-inbox="${snippet.inboxId}"></script>
</body>
</html>`;
  const server: Server = createServer((req, res) => {
    // the browser asks for an icon: none, and no error in the console either
    if (req.url?.startsWith("/favicon")) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the host site has no port");
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
