import { type Figure, parseArgs, postgresReachable, printSummary } from "./harness.ts";
import { benchInbox } from "./inbox.ts";
import { benchIngest } from "./ingest.ts";
import { benchSend } from "./send.ts";
import { benchWeb } from "./web.ts";

const benches = { ingest: benchIngest, send: benchSend, inbox: benchInbox, web: benchWeb } as const;

const { name, args } = parseArgs(process.argv.slice(2));
const chosen = name ? [name] : Object.keys(benches);
const figures: Figure[] = [];
for (const b of chosen) {
  if (!(b in benches)) {
    console.error(`unknown benchmark "${b}"; choose one of: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  const run = benches[b as keyof typeof benches];
  for (const backend of args.backends) {
    if (backend === "postgres" && !(await postgresReachable(args.databaseUrl))) {
      console.log(`skipping ${b} on postgres: no server at ${new URL(args.databaseUrl).host}`);
      continue;
    }
    figures.push(...(await run(args, backend)));
  }
}
printSummary(figures);
process.exit(0);
