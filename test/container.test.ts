/**
 * The image, checked without a Docker engine: the Dockerfile is linted and its structure tested, every
 * file its runtime stage copies is shown to exist after a fresh build, and the entrypoint is run exactly
 * as the image runs it (`node dist/src/cli.js serve` with the platform's environment) through a short
 * batch job on the example `model.tar.gz`.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { describe, it } from "node:test";
import { validate } from "dockerfile-utils";
import ort from "onnxruntime-node";
import { defaultModelArchive, EXAMPLE_MODEL_CONFIG } from "../scripts/make-model-archive.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { exitOf, SERVER_NODE_FLAGS, waitForLog } from "./support/child-server.js";
import { assertClose, parseCsvNumbers } from "./support/reference.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly stage: number;
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), with their stage. */
function instructions(): Instruction[] {
  const joined = dockerfile.replace(/\\\n/g, " ");
  const result: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const [keyword, ...rest] = trimmed.split(/\s+/);
    if (keyword.toUpperCase() === "FROM") stage++;
    result.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), stage });
  }
  return result;
}

/** Whether .dockerignore keeps `file` (relative to the repository) in the build context. */
function inContext(file: string): boolean {
  const rules = readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  let included = true;
  for (const rule of rules) {
    const negate = rule.startsWith("!");
    const pattern = (negate ? rule.slice(1) : rule).replace(/\/$/, "");
    const regex = new RegExp(
      `^${pattern
        .split("**")
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, "[^/]*")
            .replace(/\?/g, "[^/]"),
        )
        .join(".*")}$`,
    );
    // A pattern that matches a directory applies to everything under it.
    const parents = file.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    if (parents.some((candidate) => regex.test(candidate))) included = negate;
  }
  return included;
}

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true })
    .map((name) => path.join(dir, String(name)))
    .filter((name) => statSync(path.join(ROOT, name)).isFile());
}

describe("the Dockerfile", () => {
  it("passes the Dockerfile linter without a warning", () => {
    const problems = validate(dockerfile);
    assert.deepEqual(
      problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`),
      [],
    );
  });

  it("is multi-stage on a pinned Node LTS, and its runtime stage runs as non-root with an exec-form ENTRYPOINT", () => {
    const all = instructions();
    const froms = all.filter((i) => i.keyword === "FROM");
    assert.ok(froms.length >= 2, "a build stage and a runtime stage");
    for (const from of froms) assert.match(from.args, /^node:20\.\d+\.\d+-bookworm-slim( AS \w+)?$/i, from.args);
    const runtime = all.filter((i) => i.stage === froms.length - 1);
    const entrypoints = runtime.filter((i) => i.keyword === "ENTRYPOINT");
    assert.equal(entrypoints.length, 1);
    const entrypoint = JSON.parse(entrypoints[0].args) as string[];
    assert.ok(Array.isArray(entrypoint), "exec form");
    assert.equal(entrypoint[0], "node", "node itself is PID 1 (it handles SIGTERM), not a shell or an init wrapper");
    assert.deepEqual(entrypoint.slice(1, -1), SERVER_NODE_FLAGS, "the image runs Node as the tests and the bench do");
    assert.ok(!runtime.some((i) => i.keyword === "CMD"), "no CMD: `docker run IMAGE` alone prints usage");
    assert.ok(runtime.some((i) => i.keyword === "EXPOSE" && i.args === "8080"));
    assert.ok(runtime.some((i) => i.keyword === "WORKDIR"));
    const user = runtime.filter((i) => i.keyword === "USER").at(-1);
    assert.ok(user && !/^(root|0)$/.test(user.args), "runs as a non-root user");
    const installs = all.filter((i) => i.keyword === "RUN" && /apt-get install/.test(i.args)).map((i) => i.args);
    assert.ok(
      installs.every((run) => !/nvidia|cuda|mesa|libnvidia|vulkan-drivers/i.test(run)),
      "no GPU driver in the image (the Vulkan loader is not one)",
    );
    assert.ok(all.some((i) => i.keyword === "ENV" && /ONNXRUNTIME_NODE_INSTALL=skip/.test(i.args)));
  });

  it("runs Node with the same flags wherever Sluice starts: the image, `npm start`, the `sluice` command", () => {
    const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    assert.equal(packageJson.scripts.start, `node ${SERVER_NODE_FLAGS.join(" ")} dist/src/cli.js serve`);
    const shebang = readFileSync(path.join(ROOT, "src/cli.ts"), "utf8").split("\n")[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(" ")}`);
  });

  it("copies only files that the build context holds and a fresh build produces", () => {
    const all = instructions();
    const copies = all.filter((i) => i.keyword === "COPY");
    // Sources from the build context must exist and survive .dockerignore.
    for (const copy of copies.filter((c) => !c.args.startsWith("--from"))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(path.join(ROOT, source)), `${source} exists`);
        const files = statSync(path.join(ROOT, source)).isDirectory() ? filesUnder(source) : [source];
        assert.ok(files.length > 0 && files.every(inContext), `${source} is in the build context`);
      }
    }
    // What the runtime stage takes from the build stage must be produced by a fresh build.
    const out = temporaryDirectory("sluice-image-build");
    const build = spawnSync(
      process.execPath,
      [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", out],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(build.status, 0, build.stdout + build.stderr);
    for (const copy of copies.filter((c) => c.args.startsWith("--from=build"))) {
      const source = copy.args.split(/\s+/)[1].replace(/^\/build\//, "");
      const built = source.startsWith("dist/") ? path.join(out, source.slice("dist/".length)) : path.join(ROOT, source);
      assert.ok(existsSync(built), `${source} is produced by the build stage`);
    }
    assert.ok(existsSync(path.join(out, "src/cli.js")));
    assert.ok(!existsSync(path.join(out, "test")), "tests stay out of the image");
  });

  it("runs with production dependencies only: nothing in src/ or codecs/ imports a devDependency", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const production = new Set(Object.keys(manifest.dependencies));
    for (const dir of ["dist/src", "dist/codecs"]) {
      for (const file of filesUnder(dir).filter((name) => name.endsWith(".js"))) {
        const source = readFileSync(path.join(ROOT, file), "utf8");
        for (const [, specifier] of source.matchAll(/from "([^".][^"]*)"/g)) {
          // The package's own name resolves to itself (the scaffold's templates import it).
          if (specifier.startsWith("node:") || specifier === "sluice" || specifier.startsWith("sluice/")) continue;
          const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
          assert.ok(production.has(name), `${file} imports ${specifier}, not a production dependency`);
        }
      }
    }
  });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });

describe("the entrypoint, run as the image runs it", () => {
  it("prints usage and exits non-zero without `serve`", () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, "dist/src/cli.js")], { encoding: "utf8" });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /serve/);
  });

  it("serves model.tar.gz through a short Line-split batch job, then stops on SIGTERM", async () => {
    // The platform unpacks model.tar.gz into /opt/ml/model with tar; a temporary directory stands in for it.
    const modelDir = temporaryDirectory("opt-ml-model");
    const archive = path.join(temporaryDirectory("model-archive"), "model.tar.gz");
    writeFileSync(archive, defaultModelArchive());
    const unpacked = spawnSync("tar", ["-xzf", archive, "-C", modelDir], { encoding: "utf8" });
    assert.equal(unpacked.status, 0, `tar: ${unpacked.stderr}`);
    assert.equal(unpacked.stderr, "", "tar warns about nothing");
    assert.deepEqual(readdirSync(modelDir).sort(), ["model.onnx", "sluice.json"]);

    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, "dist/src/cli.js"), "serve"], {
      env: {
        ...process.env,
        SAGEMAKER_BATCH: "true",
        SAGEMAKER_BIND_TO_PORT: String(port),
        SAGEMAKER_MAX_PAYLOAD_IN_MB: "1",
        SAGEMAKER_BATCH_STRATEGY: "MULTI_RECORD",
        SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "2",
        SLUICE_MODEL_DIR: modelDir,
      },
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForLog(child, /info listening/);
      // The platform polls /ping until it answers 200.
      for (let tries = 0; ; tries++) {
        const ping = await fetch(`${base}/ping`).catch(() => undefined);
        if (ping?.status === 200) break;
        assert.ok(tries < 200, "the model never became ready");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const parameters = (await (await fetch(`${base}/execution-parameters`)).json()) as Record<string, number>;
      assert.ok(parameters.MaxPayloadInMB >= 1 && parameters.MaxConcurrentTransforms >= 1);

      // The input file, split on lines into mini-batches of at most 64 KB, sent two at a time.
      const csv = readFileSync(path.join(ROOT, "test/vectors/sagemaker-python-sdk/transform_input.csv"), "utf8")
        .trim()
        .split("\n");
      const rows = Array.from({ length: 60 }, (_, i) => csv[i % csv.length]);
      const batches: string[] = [];
      let current = "";
      for (const row of rows) {
        if (current.length + row.length + 1 > 64 * 1024) {
          batches.push(current);
          current = "";
        }
        current += `${row}\n`;
      }
      batches.push(current);
      assert.ok(batches.length > 2);
      const answers: string[] = new Array(batches.length);
      for (let i = 0; i < batches.length; i += 2) {
        await Promise.all(
          [i, i + 1]
            .filter((k) => k < batches.length)
            .map(async (k) => {
              const response = await fetch(`${base}/invocations`, {
                method: "POST",
                body: batches[k],
                headers: { "content-type": "text/csv" },
              });
              assert.equal(response.status, 200);
              // sluice.json's "accept" answers a request without Accept.
              assert.equal(response.headers.get("content-type"), EXAMPLE_MODEL_CONFIG.accept);
              answers[k] = await response.text();
            }),
        );
      }
      // AssembleWith=Line: the answers, in order, each followed by a newline.
      const assembled = answers.map((answer) => `${answer}\n`).join("");
      const output = parseCsvNumbers(assembled.replace(/\n+/g, "\n"));
      assert.equal(output.length, rows.length);
      const session = await ort.InferenceSession.create(path.join(modelDir, "model.onnx"));
      const pixels = Float32Array.from(rows.flatMap((row) => row.split(",").map(Number)));
      const expected = await session.run({ features: new ort.Tensor("float32", pixels, [rows.length, 784]) });
      assertClose(output.flat(), expected.probabilities.data as Float32Array);
      await session.release();

      child.kill("SIGTERM");
      assert.equal(await exitOf(child), 0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
