/**
 * Temporary directories (model copies, generated inputs, the WebGPU runtime directory) go when their
 * process ends: a test suite or benchmark run a hundred times must not leave gigabytes behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { removeTemporaryDirectory, temporaryDirectory } from "../src/temporary-directory.js";

const MODULE = new URL("../src/temporary-directory.js", import.meta.url).href;

/** Runs `script` (an ES module importing {@link MODULE}) in a fresh Node process with `TMPDIR=tmp`. */
function runWithTmpdir(tmp: string, script: string): string {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, TMPDIR: tmp },
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

describe("temporary directories", () => {
  it("are removed, with what they hold, when the process exits", () => {
    const tmp = temporaryDirectory("sluice-tmpdir");
    const made = runWithTmpdir(
      tmp,
      `import { writeFileSync } from "node:fs";
       import { temporaryDirectory } from ${JSON.stringify(MODULE)};
       const dirs = [temporaryDirectory("a"), temporaryDirectory("b")];
       writeFileSync(dirs[0] + "/model.onnx", new Uint8Array(1 << 20));
       console.log(dirs.join("\\n"));`,
    );
    const dirs = made.split("\n");
    assert.equal(dirs.length, 2);
    for (const dir of dirs) assert.equal(path.dirname(dir), tmp);
    assert.deepEqual(readdirSync(tmp), []);
  });

  it("are removed at once by removeTemporaryDirectory", () => {
    const dir = temporaryDirectory("sluice-now");
    writeFileSync(path.join(dir, "rows.csv"), "1,2\n");
    removeTemporaryDirectory(dir);
    assert.equal(existsSync(dir), false);
  });
});
