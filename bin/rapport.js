#!/usr/bin/env node
// The `rapport` command: runs the TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

register();
// tsx turns source maps on; parsing every dependency's map costs a third of start-up, so they
// stay off unless asked for (NODE_OPTIONS=--enable-source-maps or RAPPORT_SOURCE_MAPS=1)
if (!process.env.RAPPORT_SOURCE_MAPS && !process.execArgv.includes("--enable-source-maps")) {
  process.setSourceMapsEnabled(false);
}
await import("../src/cli.ts");
