import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { containerResources } from "../src/container-resources.js";
import { executionParameters } from "../src/execution-parameters.js";
import { temporaryDirectory } from "../src/temporary-directory.js";

const cgroup = (files: Record<string, string>) => {
  const root = temporaryDirectory("sluice-cgroup");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
};

const tuning = (concurrency: number, preferredPayloadMB = 16) => ({
  batchRows: 512,
  suggestedConcurrentTransforms: concurrency,
  preferredPayloadMB,
});

describe("container resources", () => {
  it("lowers the host's figures to cgroup v2 limits", () => {
    const resources = containerResources(cgroup({ "cpu.max": "100000 100000\n", "memory.max": "536870912\n" }));
    assert.equal(resources.cpus, 1);
    assert.equal(resources.memoryBytes, 512 * 1024 * 1024);
  });

  it("reads cgroup v1 limits", () => {
    const resources = containerResources(
      cgroup({
        "cpu/cpu.cfs_quota_us": "100000",
        "cpu/cpu.cfs_period_us": "100000",
        "memory/memory.limit_in_bytes": "1073741824",
      }),
    );
    assert.equal(resources.cpus, 1);
    assert.equal(resources.memoryBytes, 1024 ** 3);
  });

  it("keeps the host's figures when there is no limit", () => {
    const resources = containerResources(cgroup({ "cpu.max": "max 100000", "memory.max": "max" }));
    assert.ok(resources.cpus >= 1);
    assert.ok(resources.memoryBytes > 0);
  });
});

describe("execution parameters", () => {
  it("stay within the platform's limits for any machine", () => {
    for (const cpus of [1, 2, 8, 64, 192]) {
      for (const memoryGiB of [0.5, 2, 16, 768]) {
        const params = executionParameters({ cpus, memoryBytes: memoryGiB * 1024 ** 3 }, tuning(cpus), "platform");
        assert.ok(params.MaxPayloadInMB >= 1 && params.MaxPayloadInMB <= 100);
        assert.ok(params.MaxConcurrentTransforms >= 1);
        assert.ok(params.MaxConcurrentTransforms * params.MaxPayloadInMB <= 100, `${cpus} cpus, ${memoryGiB} GiB`);
      }
    }
  });

  it("suggest one transform per core when memory allows, fewer when it does not", () => {
    assert.equal(
      executionParameters({ cpus: 8, memoryBytes: 32 * 1024 ** 3 }, tuning(8), "platform").MaxConcurrentTransforms,
      8,
    );
    assert.equal(
      executionParameters({ cpus: 8, memoryBytes: 1024 ** 3 }, tuning(8), "platform").MaxConcurrentTransforms,
      3,
    );
  });

  it("spell the batch strategy as the platform documents it, or as the API does on request", () => {
    const resources = { cpus: 2, memoryBytes: 4 * 1024 ** 3 };
    assert.equal(executionParameters(resources, tuning(2), "platform").BatchStrategy, "MULTI_RECORD");
    assert.equal(executionParameters(resources, tuning(2), "api").BatchStrategy, "MultiRecord");
  });

  it("answer what the container was configured with, when it was", () => {
    const resources = { cpus: 8, memoryBytes: 32 * 1024 ** 3 };
    const params = executionParameters(resources, tuning(8), "platform", {
      maxPayloadInMB: 6,
      maxConcurrentTransforms: 3,
      batchStrategy: "SINGLE_RECORD",
    });
    assert.deepEqual(params, { MaxConcurrentTransforms: 3, BatchStrategy: "SINGLE_RECORD", MaxPayloadInMB: 6 });
    assert.equal(
      executionParameters(resources, tuning(8), "api", { batchStrategy: "SINGLE_RECORD" }).BatchStrategy,
      "SingleRecord",
    );
    assert.equal(executionParameters(resources, tuning(8), "platform", { maxPayloadInMB: 6 }).MaxPayloadInMB, 6);
  });
});
