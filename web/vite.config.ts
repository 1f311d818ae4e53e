import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// The agent web app: built once (`npm run build:web`, run by `npm install`) into web/dist,
// which the server serves under /inbox/; the server never builds at start.
/**
 * Writes `.br` and `.gz` beside every script and stylesheet, compressed once at build time
 * at the highest level, so the server sends them as they are without compressing per request.
 */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "rapport-precompress",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const path = join(options.dir ?? outDir, name);
        const raw = readFileSync(path);
        writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
        writeFileSync(
          `${path}.br`,
          brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

export default defineConfig({
  root,
  base: "/inbox/",
  plugins: [react(), precompress()],
  // every <script>/<style> Vite writes carries this placeholder; the server swaps in a fresh
  // nonce per response so the CSP can refuse every other inline style or script
  html: { cspNonce: "RAPPORT_CSP_NONCE" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    // a bundle over the initial-route budget should be seen at build time
    chunkSizeWarningLimit: 700,
  },
  logLevel: "warn",
});
