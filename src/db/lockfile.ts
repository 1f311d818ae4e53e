import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Thrown when another live process holds the embedded data folder. */
export class DataDirLockedError extends Error {}

// folders this process holds: a second open from the same process is refused too
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else
    return err instanceof Error && "code" in err && err.code === "EPERM";
  }
}

/**
 * Takes the data folder for this process. PGlite has no cross-process locking, so two
 * processes on one folder would corrupt it; a lock file holding our pid prevents that.
 * A lock left by a process that no longer exists is taken over.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "rapport.lock");
  if (held.has(path)) {
    throw new DataDirLockedError(`The data folder ${dir} is already open in this process.`);
  }
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      return () => {
        held.delete(path);
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if (!(err instanceof Error && "code" in err && err.code === "EEXIST")) throw err;
      const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      // our own pid on a folder we do not hold is a lock left by an earlier life of this pid
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(
          `The data folder ${dir} is in use by another Rapport process (pid ${pid}). ` +
            "Stop that process first, or point RAPPORT_DATA_DIR at another folder. " +
            "To run several processes, use PostgreSQL (DATABASE_URL).",
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new DataDirLockedError(`Could not take the lock on the data folder ${dir}.`);
}
