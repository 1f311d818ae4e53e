import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirLockedError, lockDataDir } from "../src/db/lockfile.ts";

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "rapport-lock-"));
  dirs.push(d);
  return d;
}

/** Runs the CLI as a user would, collecting its output. */
function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
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
  const waitFor = async (text: string, ms: number) => {
    const until = Date.now() + ms;
    while (!out.includes(text)) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`never printed "${text}":\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, exited, output, waitFor };
}

describe("the embedded data folder", () => {
  it("is refused to a second opener in the same process, and taken over from a dead one", () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    release();
    // a lock left by a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max)
    writeFileSync(join(dir, "rapport.lock"), "4194305");
    const again = lockDataDir(dir);
    expect(readFileSync(join(dir, "rapport.lock"), "utf8")).toBe(String(process.pid));
    again();
  });

  it("refuses a second process with a clear message, and survives the first one's kill -9", async () => {
    const dir = tempDir();
    const first = cli(["start", "--port", "0"], { RAPPORT_DATA_DIR: dir });
    await first.waitFor("Rapport ready", 90_000);

    const second = cli(["migrate"], { RAPPORT_DATA_DIR: dir });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `The data folder ${dir} is in use by another Rapport process (pid ${first.child.pid})`,
    );
    expect(second.output()).toContain("DATABASE_URL");

    first.child.kill("SIGKILL");
    await first.exited;
    const third = cli(["start", "--port", "0"], { RAPPORT_DATA_DIR: dir });
    await third.waitFor("Rapport ready", 90_000);
    // the workspace made by the first start is still there: the third start made none
    expect(third.output()).not.toContain("is ready; its owner is");
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  }, 200_000);
});
