/**
 * `sluice transform` as the platform's batch-transform agent: every split type, both batch strategies,
 * AssembleWith both ways, directories of mixed files, records straddling payload limits and larger than
 * them, bad records, DataProcessing filters and joins, interruption, and `--endpoint` against a real
 * `sluice serve`. Outputs are compared with the answers of the same records sent in one body.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { createCodecRegistry } from "../src/codec/plugin-loader.js";
import { loadConfig } from "../src/config.js";
import { InvocationService } from "../src/invocation-service.js";
import { DataProcessing } from "../src/job/data-processing.js";
import { listInputs } from "../src/job/input-files.js";
import {
  type Answer,
  type BodyTypes,
  HttpInvoker,
  InProcessInvoker,
  type InvocationBody,
  type Invoker,
} from "../src/job/invoker.js";
import { type JobOptions, parseJobOptions } from "../src/job/job-options.js";
import { JobProgress } from "../src/job/job-progress.js";
import { compileJsonPath } from "../src/job/json-path.js";
import { miniBatches, type PackingOptions } from "../src/job/mini-batches.js";
import { RecordTooLargeError } from "../src/job/record-splitter.js";
import { type JobSummary, resolveParameters, runTransformJob } from "../src/job/transform-job.js";
import { StreamLogger } from "../src/stream-logger.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import {
  amazonRecord,
  concat,
  recordIOFrame,
  recordIOMultipart,
  tfExample,
  tfRecordFrame,
} from "./support/binary-writers.js";
import { exitOf, startChildServer } from "./support/child-server.js";
import { modelDir, smallMlp } from "./support/models.js";
import { startTestServer, type TestServer } from "./support/server.js";

const CLI = new URL("../src/cli.js", import.meta.url).pathname;
const CRASHING_PLUGIN = new URL("fixtures/crashing-plugin.js", import.meta.url).pathname;
const quiet = new StreamLogger({ sink: () => {} });
const MB = 2 ** 20;

/** `rows` CSV rows of 4 features, distinct per row. */
const csvRows = (rows: number, from = 0) =>
  Array.from({ length: rows }, (_, r) => `${((r + from) % 97) / 100},0.2,${((r + from) % 13) / 10},0.4`).join("\n") +
  "\n";

/** An invoker that remembers the bodies it sends. */
class RecordingInvoker implements Invoker {
  readonly bodies: Uint8Array[] = [];
  constructor(private readonly inner: Invoker) {}
  executionParameters() {
    return this.inner.executionParameters();
  }
  ready() {
    return this.inner.ready();
  }
  invoke(body: InvocationBody, types: BodyTypes, signal: AbortSignal): Promise<Answer> {
    if (Array.isArray(body)) this.bodies.push(Buffer.concat(body));
    return this.inner.invoke(body, types, signal);
  }
  async close() {}
}

describe("sluice transform (in process)", () => {
  const dir = modelDir(smallMlp());
  let service: InvocationService;
  let invoker: InProcessInvoker;
  before(async () => {
    const config = loadConfig({}, { modelDir: dir });
    service = new InvocationService(config, await createCodecRegistry(), quiet);
    await service.load();
    invoker = new InProcessInvoker(service);
  });
  after(() => service.close());

  const workspace = () => temporaryDirectory("sluice-job");
  const run = async (
    input: string,
    args: string[],
    recording?: RecordingInvoker,
  ): Promise<{ summary: JobSummary; out: string; options: JobOptions }> => {
    const out = path.join(workspace(), "out");
    const options = parseJobOptions(["--input", input, "--output", out, ...args]);
    const files = listInputs(
      options.input,
      options.contentType,
      service.registry,
      undefined,
      options.compressionType === "Gzip",
    );
    const summary = await runTransformJob(
      options,
      files,
      recording ?? invoker,
      {
        maxConcurrent: options.maxConcurrent ?? 2,
        batchStrategy: options.batchStrategy ?? "MultiRecord",
        maxPayloadMB: options.maxPayloadMB ?? 6,
      },
      { stdout: process.stdout, signal: new AbortController().signal, log: quiet, progress: false },
    );
    return { summary, out, options };
  };
  /** The model's answer lines for `text` sent in one body. */
  const answerLines = async (text: string, accept = "text/csv") => {
    const answer = await invoker.invoke(
      [new TextEncoder().encode(text)],
      { contentType: "text/csv", accept },
      new AbortController().signal,
    );
    const chunks: Uint8Array[] = [];
    for await (const chunk of answer.chunks) chunks.push(chunk);
    return Buffer.concat(chunks).toString().trim().split("\n");
  };

  it("Line split, MultiRecord: packs whole lines up to MaxPayloadInMB, in order, never splitting one", async () => {
    const text = csvRows(110_000);
    const input = path.join(workspace(), "big.csv");
    writeFileSync(input, text);
    const recording = new RecordingInvoker(invoker);
    const { summary, out } = await run(input, ["--split-type", "Line", "--max-payload-mb", "1"], recording);
    assert.equal(summary.failures.length, 0);
    assert.equal(summary.records, 110_000);
    assert.ok(recording.bodies.length >= 2, `${recording.bodies.length} bodies`);
    for (const body of recording.bodies) {
      assert.ok(body.byteLength <= MB);
      assert.equal(body[body.byteLength - 1], 0x0a, "every body ends at a line's end");
    }
    const lines = readFileSync(path.join(out, "big.csv.out"), "utf8").trim().split("\n");
    assert.deepEqual(lines, await answerLines(text));
  });

  it("SingleRecord sends one record per body; AssembleWith=Line ends each answer with a newline", async () => {
    const input = path.join(workspace(), "three.csv");
    writeFileSync(input, csvRows(3));
    const recording = new RecordingInvoker(invoker);
    const { out } = await run(
      input,
      ["--split-type", "Line", "--batch-strategy", "SingleRecord", "--assemble-with", "Line"],
      recording,
    );
    assert.equal(recording.bodies.length, 3);
    const written = readFileSync(path.join(out, "three.csv.out"), "utf8");
    // Each answer already ends with its line feed; AssembleWith=Line adds one after it, as the platform does.
    assert.deepEqual(
      written
        .split("\n\n")
        .filter(Boolean)
        .map((line) => line.trim()),
      await answerLines(csvRows(3)),
    );
    const none = await run(input, ["--split-type", "Line", "--batch-strategy", "SingleRecord"]);
    assert.equal(readFileSync(path.join(none.out, "three.csv.out"), "utf8").trim().split("\n").length, 3);
  });

  it("RecordIO split keeps a record that spans frames whole; TFRecord splits on frames", async () => {
    const record = (values: number[]) => amazonRecord({ values: { type: "float32", values } });
    const body = concat([
      recordIOFrame(record([0.1, 0.2, 0.3, 0.4])),
      recordIOMultipart(record([0.5, 0.6, 0.7, 0.8]), 3),
      recordIOFrame(record([0.9, 1, 1.1, 1.2])),
    ]);
    const input = path.join(workspace(), "data.rec");
    writeFileSync(input, body);
    const recording = new RecordingInvoker(invoker);
    const { summary, out } = await run(
      input,
      [
        "--split-type",
        "RecordIO",
        "--batch-strategy",
        "SingleRecord",
        "--accept",
        "application/jsonlines",
        "--assemble-with",
        "Line",
      ],
      recording,
    );
    assert.equal(summary.failures.length, 0, JSON.stringify(summary.failures));
    assert.equal(recording.bodies.length, 3, "three records, the middle one in three frames");
    assert.equal(readFileSync(path.join(out, "data.rec.out"), "utf8").trim().split(/\n+/).length, 3);

    const tf = path.join(workspace(), "data.tfrecord");
    writeFileSync(
      tf,
      concat([
        tfRecordFrame(tfExample({ values: { float: [0.1, 0.2, 0.3, 0.4] } })),
        tfRecordFrame(tfExample({ values: { float: [1, 2, 3, 4] } })),
      ]),
    );
    const tfRun = await run(tf, ["--split-type", "TFRecord", "--accept", "application/jsonlines"]);
    assert.equal(tfRun.summary.records, 2);
    assert.equal(readFileSync(path.join(tfRun.out, "data.tfrecord.out"), "utf8").trim().split("\n").length, 2);
  });

  it("fails a record larger than the payload limit, and an input larger than it with no split, leaving no .out", async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, "wide.csv"), `${"1,".repeat(600_000)}1\n`);
    const line = await run(path.join(dir, "wide.csv"), ["--split-type", "Line", "--max-payload-mb", "1"]);
    assert.equal(line.summary.failures[0]?.code, "RECORD_EXCEEDS_PAYLOAD");
    assert.equal(line.summary.failures[0]?.recordIndex, 0);
    assert.deepEqual(
      readdirSync(line.out, { recursive: true }).filter((f) => String(f).endsWith(".out")),
      [],
    );
    writeFileSync(path.join(dir, "whole.csv"), csvRows(80_000));
    const whole = await run(path.join(dir, "whole.csv"), ["--max-payload-mb", "1"]);
    assert.equal(whole.summary.failures[0]?.code, "RECORD_EXCEEDS_PAYLOAD");
  });

  it("transforms a directory of mixed files into the same layout, and lists the one that fails, where and why", async () => {
    const dir = workspace();
    mkdirSync(path.join(dir, "a", "b"), { recursive: true });
    writeFileSync(path.join(dir, "one.csv"), csvRows(4));
    writeFileSync(path.join(dir, "a", "two.jsonl"), "[0.1,0.2,0.3,0.4]\n[0.5,0.6,0.7,0.8]\n");
    writeFileSync(path.join(dir, "a", "b", "three.json"), '{"instances":[[1,2,3,4]]}\n');
    writeFileSync(path.join(dir, "a", "bad.csv"), `${csvRows(5)}0.1,oops,0.3,0.4\n${csvRows(5)}`);
    const { summary, out } = await run(dir, ["--split-type", "Line", "--batch-strategy", "SingleRecord"]);
    const written = readdirSync(out, { recursive: true }).map(String).sort();
    assert.deepEqual(written, ["a", "a/b", "a/b/three.json.out", "a/two.jsonl.out", "one.csv.out"]);
    assert.equal(summary.filesDone, 3);
    assert.equal(summary.failures.length, 1);
    assert.equal(summary.recordsWritten, 4 + 2 + 1, "the outputs written hold 7 records");
    assert.ok(summary.records >= summary.recordsWritten);
    const [failure] = summary.failures;
    assert.equal(failure.file, path.join("a", "bad.csv"));
    assert.equal(failure.code, "CSV_FIELD_NOT_NUMERIC");
    assert.equal(failure.recordIndex, 5);
    assert.equal(failure.byteOffset, Buffer.byteLength(csvRows(5)));
  });

  it("--compression-type Gzip: decompresses each input as it reads it, split or whole, and names a corrupt one", async () => {
    const dir = workspace();
    const text = csvRows(50);
    writeFileSync(path.join(dir, "rows.csv.gz"), gzipSync(text));
    writeFileSync(path.join(dir, "broken.csv.gz"), "not gzip at all");
    assert.throws(
      () => listInputs(dir, undefined, service.registry),
      /give --content-type \(for gzip-compressed inputs, --compression-type Gzip\)/,
    );
    const expected = await answerLines(text);
    for (const splitType of ["Line", "None"]) {
      const { summary, out } = await run(dir, ["--split-type", splitType, "--compression-type", "Gzip"]);
      assert.equal(summary.filesDone, 1, splitType);
      assert.deepEqual(readFileSync(path.join(out, "rows.csv.gz.out"), "utf8").trim().split("\n"), expected);
      assert.deepEqual(
        summary.failures.map((failure) => [failure.file, failure.code, failure.reason]),
        [
          [
            "broken.csv.gz",
            "CONTENT_DECODING_FAILED",
            "the input is not valid gzip (--compression-type Gzip): incorrect header check (Z_DATA_ERROR)",
          ],
        ],
        splitType,
      );
    }
  });

  it("run again with its output inside its input, reads its inputs and not the .out files of the run before", () => {
    const dir = workspace();
    writeFileSync(path.join(dir, "one.csv"), csvRows(4));
    mkdirSync(path.join(dir, "out"));
    writeFileSync(path.join(dir, "out", "one.csv.out"), "0.1,0.2,0.7\n");
    const listed = listInputs(dir, undefined, service.registry, path.join(dir, "out"));
    assert.deepEqual(
      listed.map((file) => file.relative),
      ["one.csv"],
    );
    assert.throws(() => listInputs(dir, undefined, service.registry), /cannot tell the media type of .*one\.csv\.out/);
  });

  it("applies DataProcessing to CSV: InputFilter drops the id, JoinSource=Input appends, OutputFilter picks", async () => {
    const input = path.join(workspace(), "ids.csv");
    const rows = csvRows(3).trim().split("\n");
    writeFileSync(input, rows.map((row, i) => `id-${i},${row}\n`).join(""));
    const { summary, out } = await run(input, [
      "--split-type",
      "Line",
      "--input-filter",
      "$[1:]",
      "--join-source",
      "Input",
      "--output-filter",
      "$[0,5:]",
    ]);
    assert.equal(summary.failures.length, 0, JSON.stringify(summary.failures));
    const written = readFileSync(path.join(out, "ids.csv.out"), "utf8").trim().split("\n");
    const answers = await answerLines(`${rows.join("\n")}\n`);
    assert.deepEqual(
      written,
      answers.map((answer, i) => `id-${i},${answer}`),
    );
  });

  it("applies DataProcessing to a SplitType=None input as one record: a CSV row without its line feed, a JSON document whole", async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, "row.csv"), "id-1,0.1,0.2,0.3,0.4\r\n");
    const csv = await run(path.join(dir, "row.csv"), ["--input-filter", "$[1:]", "--join-source", "Input"]);
    assert.equal(csv.summary.failures.length, 0, JSON.stringify(csv.summary.failures));
    const [rowAnswer] = await answerLines("0.1,0.2,0.3,0.4\n");
    assert.equal(readFileSync(path.join(csv.out, "row.csv.out"), "utf8"), `id-1,0.1,0.2,0.3,0.4,${rowAnswer}\n`);

    const document = {
      id: 7,
      instances: [
        [0.1, 0.2, 0.3, 0.4],
        [0.5, 0.6, 0.7, 0.8],
      ],
    };
    writeFileSync(path.join(dir, "doc.json"), `${JSON.stringify(document)}\n`);
    const answers = await answerLines("0.1,0.2,0.3,0.4\n0.5,0.6,0.7,0.8\n");
    const predictions = answers.map((line) => line.split(",").map(Number));
    const filtered = ["--input-filter", "$.instances", "--accept", "application/json"];
    const joined = await run(path.join(dir, "doc.json"), [...filtered, "--join-source", "Input"]);
    assert.equal(joined.summary.failures.length, 0, JSON.stringify(joined.summary.failures));
    assert.deepEqual(JSON.parse(readFileSync(path.join(joined.out, "doc.json.out"), "utf8")), {
      ...document,
      SageMakerOutput: { predictions },
    });
    const picked = await run(path.join(dir, "doc.json"), [
      ...filtered,
      "--join-source",
      "Input",
      "--output-filter",
      "$.SageMakerOutput.predictions[1]",
    ]);
    assert.deepEqual(JSON.parse(readFileSync(path.join(picked.out, "doc.json.out"), "utf8")), predictions[1]);
    // Two JSON lines cannot be joined to one record.
    const lines = await run(path.join(dir, "doc.json"), [
      "--input-filter",
      "$.instances",
      "--accept",
      "application/jsonlines",
      "--join-source",
      "Input",
    ]);
    assert.deepEqual(
      lines.summary.failures.map((failure) => [failure.code, failure.reason]),
      [
        [
          "DATA_PROCESSING_FAILED",
          "the answer holds 2 record(s) for 1 sent (a SplitType=None input is one record: ask for a JSON answer to filter or join it)",
        ],
      ],
    );
  });

  it("applies DataProcessing to JSON Lines: $.features in, the output joined under SageMakerOutput, keys picked", async () => {
    const input = path.join(workspace(), "records.jsonl");
    writeFileSync(input, '{"id":7,"features":[0.1,0.2,0.3,0.4]}\n{"id":8,"features":[0.5,0.6,0.7,0.8]}\n');
    const { summary, out } = await run(input, [
      "--split-type",
      "Line",
      "--accept",
      "application/jsonlines",
      "--input-filter",
      "$.features",
      "--join-source",
      "Input",
      "--output-filter",
      "$['id','SageMakerOutput']",
    ]);
    assert.equal(summary.failures.length, 0, JSON.stringify(summary.failures));
    const written = readFileSync(path.join(out, "records.jsonl.out"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      written.map((record: { id: number }) => record.id),
      [7, 8],
    );
    assert.ok(written.every((record: { SageMakerOutput: number[] }) => record.SageMakerOutput.length === 3));
    const missing = await run(input, ["--split-type", "Line", "--input-filter", "$.nothing"]);
    assert.equal(missing.summary.failures[0]?.code, "DATA_PROCESSING_FAILED");
  });
});

describe("mini-batches of Line-split files", () => {
  const pack = async (chunks: Uint8Array[], maxBodyBytes: number) => {
    const bodies: string[] = [];
    let heldBytes = 0;
    for await (const batch of miniBatches(
      (async function* () {
        yield* chunks;
      })(),
      { splitType: "Line", strategy: "MultiRecord", maxBodyBytes, processing: undefined },
    )) {
      // Read while the packer holds its buffer, between two bodies.
      heldBytes = Math.max(heldBytes, process.memoryUsage().arrayBuffers);
      bodies.push(new TextDecoder().decode(Buffer.concat(batch.parts)));
    }
    return { bodies, heldBytes };
  };

  it("hold memory in proportion to the file, not to MaxPayloadInMB", async () => {
    const before = process.memoryUsage().arrayBuffers;
    const { bodies, heldBytes } = await pack([new TextEncoder().encode("1,2,3,4\n5,6,7,8\n")], 100 * 2 ** 20);
    assert.deepEqual(bodies, ["1,2,3,4\n5,6,7,8\n"]);
    assert.ok(heldBytes - before < 2 ** 20, `${heldBytes - before} bytes of buffers for a 16-byte file`);
  });

  it("cut bodies at the limit as the buffer grows, whatever the chunking", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i},${i * 2},${i * 3}\n`);
    const text = lines.join("");
    const bytes = new TextEncoder().encode(text);
    for (const chunkBytes of [7, 4096, 300_000]) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes));
      const { bodies } = await pack(chunks, 100_000);
      assert.equal(bodies.join(""), text, `${chunkBytes}-byte chunks`);
      assert.ok(bodies.every((body) => body.length <= 100_000 && body.endsWith("\n")));
      // Each body is as full as whole lines allow: the next body's first line would not have fitted.
      for (let i = 0; i + 1 < bodies.length; i++) {
        const nextLine = bodies[i + 1].slice(0, bodies[i + 1].indexOf("\n") + 1);
        assert.ok(bodies[i].length + nextLine.length > 100_000, `body ${i} stopped short`);
      }
    }
  });
  it("send the input's own bytes, counting only lines that are not blank, wherever the chunks end", async () => {
    const random = seededRandom(21);
    const kinds = ["1,2,3", "-0.5,7,8\r", "", " ", "\r", " \t\r", "4,5,6", "  9,9,9"];
    for (let trial = 0; trial < 40; trial++) {
      const lines = Array.from(
        { length: 1 + Math.floor(random() * 60) },
        () => kinds[Math.floor(random() * kinds.length)],
      );
      const unterminated = random() < 0.5;
      const text = lines.join("\n") + (unterminated ? "" : "\n");
      const bytes = new TextEncoder().encode(text);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * 20);
        // Each chunk a buffer of its own, as a file's reads are: a body's parts must be views of them.
        chunks.push(bytes.slice(at, at + size));
        at += size;
      }
      // Above the longest line with its line feed (11 bytes), so that every line fits a body.
      const limit = 12 + Math.floor(random() * 60);
      const sent: string[] = [];
      let records = 0;
      for await (const batch of miniBatches(
        (async function* () {
          yield* chunks;
        })(),
        { splitType: "Line", strategy: "MultiRecord", maxBodyBytes: limit, processing: undefined },
      )) {
        const body = new TextDecoder().decode(Buffer.concat(batch.parts));
        assert.equal(batch.byteLength, Buffer.byteLength(body));
        assert.ok(batch.byteLength <= limit, `a ${batch.byteLength}-byte body over ${limit}`);
        assert.equal(batch.firstRecordIndex, records);
        const nonBlank = body.split("\n").filter((line) => line.trim() !== "").length;
        assert.equal(batch.count, nonBlank, JSON.stringify(body));
        records += batch.count;
        for (const part of batch.parts) {
          // The one piece not of the input: the line feed after an unterminated last line.
          const appendedLineFeed = part.length === 1 && part[0] === 0x0a && unterminated;
          assert.ok(appendedLineFeed || chunks.some((chunk) => chunk.buffer === part.buffer), "a part is a copy");
        }
        sent.push(body);
      }
      // The last line goes with a line feed, as a Line split sends every record.
      assert.equal(sent.join(""), text === "" || text.endsWith("\n") ? text : `${text}\n`);
      assert.equal(records, lines.filter((line) => line.trim() !== "").length);
    }
  });

  it("refuse a line over the limit before reading the rest of it, however the records are packed", async () => {
    const MiB = 2 ** 20;
    const ones = new Uint8Array(MiB).fill(0x31);
    const cases: [string, PackingOptions, RegExp, number][] = [
      [
        "as many as fit a body",
        { splitType: "Line", strategy: "MultiRecord", maxBodyBytes: MiB, processing: undefined },
        /^record 1 is at least \d+ bytes, more than MaxPayloadInMB allows \(1048576 bytes\)$/,
        3,
      ],
      [
        "one record a body",
        { splitType: "Line", strategy: "SingleRecord", maxBodyBytes: MiB, processing: undefined },
        /^record 1 is at least \d+ bytes, more than MaxPayloadInMB allows \(1048576 bytes\)$/,
        3,
      ],
      [
        "joined with their output",
        {
          splitType: "Line",
          strategy: "MultiRecord",
          maxBodyBytes: MiB,
          processing: new DataProcessing(
            { inputFilter: "$", outputFilter: "$", joinSource: "Input" },
            "text/csv",
            "text/csv",
          ),
        },
        /^record 1 is at least \d+ bytes, more than MaxPayloadInMB allows \(1048576 bytes\)$/,
        3,
      ],
      [
        // A filter may leave a small record of a large one: records up to 100 MiB are read whole.
        "filtered",
        {
          splitType: "Line",
          strategy: "MultiRecord",
          maxBodyBytes: MiB,
          processing: new DataProcessing(
            { inputFilter: "$[1:]", outputFilter: "$", joinSource: "None" },
            "text/csv",
            "text/csv",
          ),
        },
        /^record 1 is at least \d+ bytes, more than an input filter reads \(104857600 bytes\)$/,
        103,
      ],
    ];
    for (const [packing, options, message, mostPieces] of cases) {
      let pieces = 0;
      // A short line, then one that goes on for 1000 MiB (one piece of memory, handed over again and again).
      async function* input() {
        pieces++;
        yield new TextEncoder().encode("1,2\n");
        for (let k = 0; k < 1000; k++) {
          pieces++;
          yield ones;
        }
      }
      await assert.rejects(
        async () => {
          for await (const _batch of miniBatches(input(), options));
        },
        (error: unknown) =>
          error instanceof RecordTooLargeError && message.test(error.message) && error.byteOffset === 4,
        packing,
      );
      assert.ok(pieces <= mostPieces, `${packing}: ${pieces} pieces read before the refusal`);
    }
  });
});

describe("the platform's JSONPath subset", () => {
  it("selects as the platform's filters do", () => {
    const row = ["a", "b", "c", "d", "e", "f", "g"];
    assert.deepEqual(compileJsonPath("$").select(row), row);
    assert.deepEqual(compileJsonPath("$[1:]").select(row), row.slice(1));
    assert.deepEqual(compileJsonPath("$[0,5:]").select(row), ["a", "f", "g"]);
    assert.deepEqual(compileJsonPath("$[0,2]").select(row), ["a", "c"]);
    assert.deepEqual(compileJsonPath("$[:2]").select(row), ["a", "b"]);
    assert.equal(compileJsonPath("$[3]").select(row), "d");
    const record = { id: 1, features: [1, 2], SageMakerOutput: { score: 0.5 } };
    assert.deepEqual(compileJsonPath("$.features").select(record), [1, 2]);
    assert.deepEqual(compileJsonPath("$['id','SageMakerOutput']").select(record), {
      id: 1,
      SageMakerOutput: { score: 0.5 },
    });
    assert.equal(compileJsonPath("$.SageMakerOutput.score").select(record), 0.5);
    assert.deepEqual(compileJsonPath("$.*").select({ a: 1, b: 2 }), [1, 2]);
    assert.throws(() => compileJsonPath("$[9]").select(row), /beyond/);
    assert.throws(() => compileJsonPath("features"), /must start with \$/);
  });

  it("names what a path cannot select, and refuses a path it cannot read", () => {
    const refusals: [string, unknown, RegExp][] = [
      ["$.*", 5, /^\* selects from an array or an object$/],
      ["$[0]", { a: 1 }, /^an index selects from an array$/],
      ["$.id", [1, 2], /^the record has no key "id"$/],
      ["$.missing", { id: 1 }, /^the record has no key "missing"$/],
      ["$[-3]", [1, 2], /^index -3 is beyond the record's 2 item\(s\)$/],
    ];
    for (const [path, value, message] of refusals) {
      assert.throws(
        () => compileJsonPath(path).select(value as never),
        (error: unknown) => error instanceof Error && message.test(error.message),
        path,
      );
    }
    assert.equal(compileJsonPath("$[-1]").select([1, 2, 3] as never), 3);
    assert.throws(() => compileJsonPath("$[1]x"), /JSONPath "\$\[1\]x": unexpected "x" at 4/);
  });
});

describe("sluice transform as a command", () => {
  let server: TestServer;
  const dir = modelDir(smallMlp());
  before(async () => {
    server = await startTestServer(dir, {});
  });
  after(() => server.close());

  /** Starts `sluice transform ARGS --model-dir <the test model>`: its standard error so far, and once the job has begun. */
  const startCli = (args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [CLI, "transform", ...args, "--model-dir", dir], {
      env: { ...process.env, ...env },
    });
    let stderr = "";
    const started = new Promise<void>((resolve) => {
      child.stderr.on("data", (data: Buffer) => {
        stderr += data.toString();
        if (stderr.includes('"transform job"')) resolve();
      });
    });
    return { child, stderr: () => stderr, started };
  };
  /** Runs `sluice transform ARGS` to its end. */
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const { child, stderr } = startCli(args);
      child.on("exit", (code) => resolve({ code, stderr: stderr() }));
    });

  /** A new directory `in/` holding `files` (name → text), under a temporary `work` directory. */
  const jobInputs = (prefix: string, files: Record<string, string>) => {
    const work = temporaryDirectory(prefix);
    const inputs = path.join(work, "in");
    mkdirSync(inputs);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(inputs, name), text);
    return { work, inputs };
  };
  /** Starts `server` on a free loopback port; its URL. */
  const listening = async (server: http.Server): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it("SLUICE_ON_RECORD_ERROR=placeholder: the summary names each input's first placeholder, where and why", async () => {
    const small = csvRows(3).split("\n");
    small[1] = small[1].replace(/^[^,]*/, "abc");
    // 110 000 rows are two bodies of at most 1 MB: the bad row is in the second.
    const large = csvRows(110_000).split("\n");
    large[100_000] = large[100_000].replace(/^[^,]*/, "x1");
    const offset = (rows: string[], index: number) => rows.slice(0, index).join("\n").length + 1;
    const { work, inputs } = jobInputs("sluice-placeholders", { "a.csv": small.join("\n"), "b.csv": large.join("\n") });
    const run = startCli(
      ["--input", inputs, "--output", path.join(work, "out"), "--split-type", "Line", "--max-payload-mb", "1"],
      {
        SLUICE_ON_RECORD_ERROR: "placeholder",
      },
    );
    const [code] = (await once(run.child, "close")) as [number | null];
    assert.equal(code, 0, run.stderr());
    const summary = run.stderr().split("\n");
    assert.ok(
      summary.some((line) => line.includes("110003 records (2 answered with a placeholder)")),
      run.stderr(),
    );
    assert.deepEqual(summary.filter((line) => line.startsWith("  first placeholder: ")).sort(), [
      `  first placeholder: a.csv (record 1, byte ${offset(small, 1)}): CSV_FIELD_NOT_NUMERIC: field 0 "abc" is not a number`,
      `  first placeholder: b.csv (record 100000, byte ${offset(large, 100_000)}): CSV_FIELD_NOT_NUMERIC: field 0 "x1" is not a number`,
    ]);
    assert.equal(readFileSync(path.join(work, "out", "b.csv.out"), "utf8").split("\n")[100_000], "ERROR");
  });

  it("JoinSource=Input with placeholders: a record that is not JSON fails its input as a DataProcessing error", async () => {
    const { work, inputs } = jobInputs("sluice-join-invalid", { "rows.jsonl": "[0.1,0.2,0.3,0.4]\n[1,2,\n" });
    const args = [
      "--input",
      inputs,
      "--output",
      path.join(work, "out"),
      "--split-type",
      "Line",
      "--join-source",
      "Input",
    ];
    const run = startCli(args, { SLUICE_ON_RECORD_ERROR: "placeholder" });
    const [code] = (await once(run.child, "close")) as [number | null];
    assert.equal(code, 1);
    const failed = run
      .stderr()
      .split("\n")
      .filter((line) => line.startsWith("  failed: "));
    assert.deepEqual(failed, [
      "  failed: rows.jsonl (record 0): DATA_PROCESSING_FAILED: a record to filter or join is not valid JSON: " +
        "Unexpected end of JSON input",
    ]);
  });

  it("--endpoint drives a running `sluice serve` over HTTP and writes what the in-process service writes", async () => {
    const work = temporaryDirectory("sluice-endpoint");
    writeFileSync(path.join(work, "rows.csv"), csvRows(500));
    const common = ["--input", path.join(work, "rows.csv"), "--split-type", "Line", "--batch-strategy", "SingleRecord"];
    const viaHttp = await cli([...common, "--output", path.join(work, "http"), "--endpoint", server.url]);
    assert.equal(viaHttp.code, 0, viaHttp.stderr);
    const inProcess = await cli([...common, "--output", path.join(work, "local")]);
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(
      readFileSync(path.join(work, "http", "rows.csv.out"), "utf8"),
      readFileSync(path.join(work, "local", "rows.csv.out"), "utf8"),
    );
    assert.ok(server.logs.filter((line) => line.includes(" invocation ")).length >= 500);
  });

  it("stops on SIGINT with status 130, leaving no .out and no partial file", async () => {
    const work = temporaryDirectory("sluice-interrupt");
    writeFileSync(path.join(work, "big.csv"), csvRows(300_000));
    const out = path.join(work, "out");
    const { child, started } = startCli([
      ...["--input", path.join(work, "big.csv"), "--output", out, "--split-type", "Line"],
      ...["--batch-strategy", "SingleRecord", "--max-concurrent", "2"],
    ]);
    await started;
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill("SIGINT");
    assert.equal(await exitOf(child), 130);
    const left = existsSync(out) ? readdirSync(out, { recursive: true }).map(String) : [];
    assert.deepEqual(left, []);
  });

  it("stops the job, with status 1 and the reason, when the disk is full; leaves no partial file", {
    timeout: 60_000,
  }, async () => {
    const rows = csvRows(40_000);
    const { work, inputs } = jobInputs("sluice-full-disk", { "a.csv": rows, "b.csv": rows, "c.csv": rows });
    // Writes into /dev/full fail with ENOSPC, as a full disk's do, partway through the file.
    const out = path.join(work, "out");
    mkdirSync(out);
    symlinkSync("/dev/full", path.join(out, "a.csv.out.partial"));
    const { code, stderr } = await cli([
      ...["--input", inputs, "--output", out, "--split-type", "Line", "--max-payload-mb", "1"],
      ...["--max-concurrent", "1"],
    ]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /3 input\(s\): 0 done, 1 failed, stopped/);
    assert.match(
      stderr,
      /stopped: cannot write .*a\.csv\.out: ENOSPC: no space left on device.*; 2 input\(s\) not transformed/,
    );
    assert.match(stderr, /failed: a\.csv: ENOSPC/);
    assert.deepEqual(readdirSync(out), []);
  });

  it("--endpoint: a server that goes away stops the job, instead of every input spending its retries", {
    timeout: 90_000,
  }, async () => {
    const files = Object.fromEntries(Array.from({ length: 12 }, (_, f) => [`p${f}.csv`, csvRows(400, f)]));
    const { work, inputs } = jobInputs("sluice-endpoint-gone", files);
    const doomed = await startChildServer(dir);
    const job = startCli([
      ...["--input", inputs, "--output", path.join(work, "out"), "--split-type", "Line"],
      ...["--batch-strategy", "SingleRecord", "--max-concurrent", "2", "--endpoint", doomed.url],
    ]);
    await job.started;
    doomed.child.kill("SIGKILL");
    assert.equal(await exitOf(job.child, 60_000), 1, job.stderr());
    const stderr = job.stderr();
    assert.match(stderr, /stopped: cannot reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    assert.match(stderr, /ENDPOINT_UNREACHABLE/);
    // Only the inputs in flight when it went failed; the rest were not tried (12 × 3 retries before).
    const failed = stderr.split("\n").filter((line) => line.startsWith("  failed: "));
    assert.ok(failed.length >= 1 && failed.length <= 2, stderr);
    assert.match(stderr, /[1-9]\d* input\(s\) not transformed/);
  });

  it("--endpoint: a busy server's 503s (Retry-After) are waited out, not counted as failures", {
    timeout: 90_000,
  }, async () => {
    const busy = await startChildServer(dir, {
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "1",
      SLUICE_MAX_QUEUED_INVOCATIONS: "0",
    });
    try {
      const files = Object.fromEntries(Array.from({ length: 6 }, (_, f) => [`p${f}.csv`, csvRows(60, f)]));
      const { work, inputs } = jobInputs("sluice-endpoint-busy", files);
      const { code, stderr } = await cli([
        ...["--input", inputs, "--output", path.join(work, "out"), "--split-type", "Line"],
        ...["--batch-strategy", "SingleRecord", "--max-concurrent", "8", "--endpoint", busy.url],
        // Not one retry to spend: waiting out a busy server must not need any.
        ...["--invocations-max-retries", "0"],
      ]);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /6 input\(s\): 6 done, 0 failed; 360 records/);
      assert.ok(busy.log().includes("OVERLOADED"), "the server was busy at times");
    } finally {
      await busy.stop();
    }
  });

  it("--endpoint: a whole input whose server failed it is sent again from its start, its output rewritten", async () => {
    const bodies: number[] = [];
    const flaky = http.createServer((request, response) => {
      if (request.url !== "/invocations") {
        response.writeHead(request.url === "/ping" ? 200 : 404).end();
        return;
      }
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const attempt = bodies.push(Buffer.concat(chunks).length);
        if (attempt === 1) {
          // Part of an answer, then a broken connection.
          response.writeHead(200, { "content-type": "text/csv" });
          response.write("0.1,0.2,0.7\n".repeat(1000), () => response.socket?.destroy());
        } else if (attempt === 2) {
          response.writeHead(500).end('{"error":"boom","code":"INTERNAL"}');
        } else {
          response.writeHead(200, { "content-type": "text/csv" }).end(`answer to ${bodies.at(-1)} bytes\n`);
        }
      });
    });
    try {
      const url = await listening(flaky);
      const work = temporaryDirectory("sluice-endpoint-flaky");
      const text = csvRows(20_000);
      writeFileSync(path.join(work, "rows.csv"), text);
      const { code, stderr } = await cli([
        ...["--input", path.join(work, "rows.csv"), "--output", path.join(work, "out"), "--endpoint", url],
      ]);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /1 input\(s\): 1 done, 0 failed/);
      assert.deepEqual(bodies, [text.length, text.length, text.length]);
      assert.equal(readFileSync(path.join(work, "out", "rows.csv.out"), "utf8"), `answer to ${text.length} bytes\n`);
    } finally {
      flaky.close();
    }
  });

  it("--endpoint: waits for /ping as the platform does (a model still loading), and stops on one that failed", async () => {
    let pings = 0;
    const loading = http.createServer((_request, response) => {
      pings++;
      if (pings < 3) response.writeHead(503).end('{"error":"the model is loading","code":"MODEL_NOT_READY"}');
      else response.writeHead(200).end();
    });
    const broken = http.createServer((_request, response) => {
      response.writeHead(503).end('{"error":"the model failed to load: bad file","code":"MODEL_LOAD_FAILED"}');
    });
    try {
      await new HttpInvoker(await listening(loading), 1).ready();
      assert.equal(pings, 3);
      await assert.rejects(
        new HttpInvoker(await listening(broken), 1).ready(),
        /ping answered 503: .*failed to load: bad file/,
      );
    } finally {
      loading.close();
      broken.close();
    }
  });

  it("--endpoint: a server that is not there is a one-line error, before any input is read", async () => {
    const closed = http.createServer();
    const url = await listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    const work = temporaryDirectory("sluice-endpoint-none");
    writeFileSync(path.join(work, "rows.csv"), csvRows(10));
    const { code, stderr } = await cli([
      ...["--input", path.join(work, "rows.csv"), "--output", path.join(work, "out")],
      ...["--endpoint", url],
    ]);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `sluice: --endpoint: cannot reach ${url}: connect ECONNREFUSED ${url.slice("http://".length)}\n`,
    );
  });

  it("--endpoint: a container without /execution-parameters (the route is optional) gets the platform's defaults", async () => {
    const bare = http.createServer((_request, response) => {
      response.writeHead(404).end();
    });
    try {
      assert.deepEqual(await new HttpInvoker(await listening(bare), 1).executionParameters(), {});
      assert.deepEqual(resolveParameters(parseJobOptions(["--input", "x", "--output", "y"]), {}), {
        maxConcurrent: 1,
        batchStrategy: "MultiRecord",
        maxPayloadMB: 6,
      });
    } finally {
      bare.close();
    }
  });

  it("--invocations-timeout-s: a body not answered in time fails its input, and the job goes on", {
    timeout: 90_000,
  }, async () => {
    // The crashing plugin loops forever on a line reading `hang`.
    const { work, inputs } = jobInputs("sluice-timeout", { "a.x": "1\n2\n", "b.x": "3\nhang\n4\n", "c.x": "5\n" });
    const out = path.join(work, "out");
    const job = startCli(
      [
        ...["--input", inputs, "--output", out, "--split-type", "Line"],
        ...["--content-type", "application/x-crash-test", "--max-concurrent", "1"],
        ...["--invocations-timeout-s", "1", "--invocations-max-retries", "0"],
      ],
      { SLUICE_PLUGINS: CRASHING_PLUGIN },
    );
    assert.equal(await exitOf(job.child, 60_000), 1, job.stderr());
    const stderr = job.stderr();
    assert.match(stderr, /3 input\(s\): 2 done, 1 failed/);
    assert.match(stderr, /failed: b\.x .*INVOCATION_TIMEOUT: no complete answer within 1 s/);
    // The stuck codec thread was ended and replaced: c.x, after it, was answered.
    assert.deepEqual(readdirSync(out).sort(), ["a.x.out", "c.x.out"]);
    assert.equal(readFileSync(path.join(out, "c.x.out"), "utf8").trim().split("\n").length, 1);
  });

  it("--output -: a reader that goes away (| head) stops the job at once, with the reason", {
    timeout: 60_000,
  }, async () => {
    const work = temporaryDirectory("sluice-closed-pipe");
    for (const name of ["a.csv", "b.csv"]) writeFileSync(path.join(work, name), csvRows(100_000));
    const job = startCli(["--input", work, "--output", "-", "--split-type", "Line", "--max-payload-mb", "1"]);
    job.child.stdout.once("data", () => job.child.stdout.destroy());
    assert.equal(await exitOf(job.child), 1, job.stderr());
    const stderr = job.stderr();
    assert.match(stderr, /2 input\(s\): 0 done, 1 failed, stopped/);
    assert.match(stderr, /stopped: cannot write standard output: .*EPIPE; 1 input\(s\) not transformed/);
  });
});

describe("sluice transform's progress line", () => {
  it("counts failed inputs as they fail, not only in the summary", () => {
    const counters = { filesDone: 3, filesFailed: 0, records: 1200, bytesIn: 3 * MB };
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const progress = new JobProgress(counters, 10, 10 * MB, stream);
    try {
      assert.match(progress.line(), /^sluice transform: 3\/10 files, 1200 records, 3\.0 MB \(30%\), /);
      counters.filesFailed = 2;
      assert.match(progress.line(), /^sluice transform: 5\/10 files \(2 failed\), 1200 records, /);
    } finally {
      progress.stop();
    }
  });
});
