import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirLockedError, lockDataDir } from "../src/db/lockfile.ts";
import { cli, killChildren } from "./support/cli.ts";

const dirs: string[] = [];
afterAll(() => {
  killChildren();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "rapport-lock-"));
  dirs.push(d);
  return d;
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
    await first.waitFor("Rapport ready", 150_000);

    const second = cli(["migrate"], { RAPPORT_DATA_DIR: dir });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `The data folder ${dir} is in use by another Rapport process (pid ${first.child.pid})`,
    );
    expect(second.output()).toContain("DATABASE_URL");

    first.child.kill("SIGKILL");
    await first.exited;
    const third = cli(["start", "--port", "0"], { RAPPORT_DATA_DIR: dir });
    // crash recovery of the killed instance runs first; under a loaded CI it can take a while
    await third.waitFor("Rapport ready", 150_000);
    // the workspace made by the first start is still there: the third start made none
    expect(third.output()).not.toContain("is ready; its owner is");
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);

    // the CLI prints a working key for automation, and explains a wrong workspace or kind
    const key = cli(["keys", "create", "--workspace", "my-workspace", "--kind", "secret"], {
      RAPPORT_DATA_DIR: dir,
    });
    expect(await key.exited).toBe(0);
    expect(key.output().trim()).toMatch(/^sk_[0-9a-f]{32}_[0-9A-Za-z]{32}$/);
    const noWorkspace = cli(["keys", "create", "--workspace", "nope", "--kind", "write"], {
      RAPPORT_DATA_DIR: dir,
    });
    expect(await noWorkspace.exited).toBe(1);
    expect(noWorkspace.output()).toContain('No workspace with slug "nope"');
    const badKind = cli(["keys", "create", "--workspace", "my-workspace", "--kind", "admin"], {
      RAPPORT_DATA_DIR: dir,
    });
    expect(await badKind.exited).toBe(1);
    expect(badKind.output()).toContain("Allowed choices are write, secret");
  }, 400_000);
});
