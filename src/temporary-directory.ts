/**
 * Temporary directories that do not outlive their process: a test suite, a benchmark or a server run
 * again and again must not fill the disk with model copies and generated inputs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const created = new Set<string>();
let removedOnExit = false;

function removeAll(): void {
  for (const dir of created) removeTemporaryDirectory(dir);
}

/**
 * A new, empty directory under the system's temporary directory, named `<prefix>-XXXXXX`, removed with
 * everything in it when this process exits, unless {@link removeTemporaryDirectory} removed it first.
 * A process killed by a signal leaves it behind, and so does a worker thread terminated from outside
 * (its exit handlers do not run): make directories that must go on the main thread.
 */
export function temporaryDirectory(prefix: string): string {
  if (!removedOnExit) {
    process.once("exit", removeAll);
    removedOnExit = true;
  }
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  created.add(dir);
  return dir;
}

/** Removes a directory made by {@link temporaryDirectory} now, for callers done with large files. */
export function removeTemporaryDirectory(dir: string): void {
  created.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}
