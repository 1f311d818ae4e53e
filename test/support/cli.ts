import { type ChildProcess, spawn } from "node:child_process";

const children: ChildProcess[] = [];

/** Kills every CLI process a test started and left running. */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
}

/** Runs the CLI as a user would (`rapport <args>`), collecting what it prints. */
export function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["bin/rapport.js", ...args], {
    env: { ...process.env, DATABASE_URL: "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (d) => {
    out += String(d);
  });
  child.stderr?.on("data", (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const output = () => out;
  /** Waits until the output contains `text`, failing if the process exits first. */
  const waitFor = async (text: string, ms: number) => {
    const until = Date.now() + ms;
    while (!out.includes(text)) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`never printed "${text}":\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, exited, output, waitFor };
}
