import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CsvBoundaryScanner } from "../codecs/framing/csv-boundary-scanner.js";
import { CsvFramer } from "../codecs/framing/csv-framer.js";
import { LineBoundaryScanner } from "../codecs/framing/line-boundary-scanner.js";
import { LineFramer } from "../codecs/framing/line-framer.js";
import type { Framer, RecordBoundaryScanner } from "../src/codec/framing.js";
import { assertBodyWaitsForUnreadAnswer } from "./support/backpressure.js";
import { amazonRecord, concat, recordIOFrame } from "./support/binary-writers.js";
import { splitBySizes } from "./support/chunks.js";
import { hangingBody, lineFeeds, until } from "./support/hanging-body.js";
import { modelDir, randomRows, smallMlp } from "./support/models.js";
import { chunkOf, lastJson, rawExchange } from "./support/raw-exchange.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const encoder = new TextEncoder();

/** Where records start in CSV text (after a line feed outside quotes), the way `CsvFramer` ends them. */
function csvRecordStarts(text: Uint8Array): Set<number> {
  const starts = new Set<number>();
  let inQuotes = false;
  text.forEach((byte, i) => {
    if (byte === 0x22) inQuotes = !inQuotes;
    else if (byte === 0x0a && !inQuotes) starts.add(i + 1);
  });
  return starts;
}

/** Seeded pseudo-random integers in [0, n). */
function randomInts(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

/**
 * Feeds `body` to `scanner` in chunks of random sizes, skipping random stretches and then looking for a
 * record end, as a body being cut into parts does; returns the body offsets of the ends found and, for
 * each, where the search began.
 */
function scan(scanner: RecordBoundaryScanner, body: Uint8Array, seed: number): { from: number; end: number }[] {
  const random = randomInts(seed);
  const found: { from: number; end: number }[] = [];
  let offset = 0;
  let searching = -1;
  for (const chunk of splitBySizes(body, [1 + random(40), 1 + random(7), 1 + random(300)])) {
    let at = 0;
    while (at < chunk.length) {
      if (searching < 0 && random(3) > 0) {
        const skipped = Math.min(chunk.length - at, random(60));
        scanner.skip(chunk.subarray(at, at + skipped));
        at += skipped;
        if (skipped > 0) continue;
      }
      if (searching < 0) searching = offset + at;
      const end = scanner.findEnd(chunk.subarray(at));
      if (end === -1) break;
      found.push({ from: searching, end: offset + at + end });
      searching = -1;
      at += end;
    }
    offset += chunk.length;
  }
  return found;
}

function checkScanner(make: () => RecordBoundaryScanner, body: Uint8Array, starts: Set<number>): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let seed = 1; seed <= 300; seed++) {
    const found = scan(make(), body, seed);
    assert.ok(found.length > 0, `seed ${seed}: no record end found`);
    for (const { from, end } of found) {
      // The first record end past where the search began, and nothing before it.
      assert.equal(
        end,
        sorted.find((start) => start > from),
        `seed ${seed}: searching from ${from}`,
      );
    }
  }
}

/** CSV with quoted line feeds, doubled quotes, CRLF and a blank line; no line feed after the last record. */
const trickyCsv = encoder.encode(
  [
    '1,"two\nlines",3\r\n',
    '"a ""quoted"" word","x\n\ny",5\n',
    "\n",
    "6,7,8\n",
    '"",",",""""\n',
    '9,"multi\r\nline\n""end"""\n',
    "10,11,12",
  ]
    .join("")
    .repeat(6),
);
const jsonLines = encoder.encode('{"a": [1, 2]}\n\n[3,4]\r\n{"text": "no raw line feed in JSON"}\n5\n'.repeat(8));

describe("record-end scanners", () => {
  it("CSV: a line feed outside quotes, wherever the chunks and the searches begin", () => {
    checkScanner(() => new CsvBoundaryScanner(), trickyCsv, csvRecordStarts(trickyCsv));
  });

  it("CSV: the same quote count past skips of any size, in shared memory too", () => {
    // Chunks up to the SIMD scanner's capacity count quotes there; larger ones quote by quote.
    const body = encoder.encode('"1.5","x\ny",""""\n'.repeat(40_000));
    const starts = [...csvRecordStarts(body)].sort((a, b) => a - b);
    const shared = new Uint8Array(new SharedArrayBuffer(body.length + 8), 3, body.length);
    shared.set(body);
    for (const bytes of [body, shared]) {
      for (const skipped of [65_536, 400_000, 500_001]) {
        const scanner = new CsvBoundaryScanner();
        for (const chunk of splitBySizes(bytes.subarray(0, skipped), [65_536, skipped])) scanner.skip(chunk);
        const end = scanner.findEnd(bytes.subarray(skipped));
        assert.equal(
          skipped + end,
          starts.find((start) => start > skipped),
          `${skipped}`,
        );
      }
    }
  });

  it("JSON Lines: every line feed", () => {
    const body = jsonLines;
    const starts = new Set<number>();
    body.forEach((byte, i) => {
      if (byte === 0x0a) starts.add(i + 1);
    });
    checkScanner(() => new LineBoundaryScanner(), body, starts);
  });

  it("the CSV and line framers count a body's line feeds (a later part's lines are numbered on by them)", () => {
    const cases: [() => Framer, Uint8Array][] = [
      [() => new CsvFramer(), trickyCsv],
      [() => new CsvFramer(), concat([trickyCsv, encoder.encode("\n")])],
      [() => new LineFramer(), jsonLines],
      [() => new LineFramer(), jsonLines.subarray(0, -1)],
    ];
    for (const [make, body] of cases) {
      const expected = lineFeeds(body);
      for (let seed = 1; seed <= 50; seed++) {
        const random = randomInts(seed);
        const framer = make();
        for (const chunk of splitBySizes(body, [1 + random(40), 1 + random(7)])) framer.push(chunk, () => {});
        framer.end(() => {});
        assert.equal(framer.lineFeedCount?.(), expected, `seed ${seed}`);
      }
    }
  });
});

/** `rows` 4-feature rows as CSV lines, every `quoteEvery`-th field quoted. */
function csvBody(rows: number, seed: number, quoteEvery = 0): string {
  const values = randomRows(rows, 4, seed);
  let text = "";
  for (let r = 0; r < rows; r++) {
    const fields: string[] = [];
    for (let c = 0; c < 4; c++) {
      const field = String(values[r * 4 + c]);
      fields.push(quoteEvery > 0 && (r * 4 + c) % quoteEvery === 0 ? `"${field}"` : field);
    }
    text += `${fields.join(",")}\n`;
  }
  return text;
}

/** `rows` 4-feature rows as JSON Lines. */
function jsonLinesBody(rows: number, seed: number): string {
  const values = randomRows(rows, 4, seed);
  let text = "";
  for (let r = 0; r < rows; r++) text += `${JSON.stringify(Array.from(values.subarray(r * 4, r * 4 + 4)))}\n`;
  return text;
}

/** `body` as a request body that arrives in chunks of odd sizes. */
function chunked(body: string | Uint8Array): ReadableStream<Uint8Array> {
  const chunks = splitBySizes(typeof body === "string" ? encoder.encode(body) : body, [1, 4099, 7, 65536, 333]);
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

/** Three codec threads, 64-record batches and parts of 4 KiB: a body of a few thousand rows makes many. */
const PARTS = { SLUICE_CODEC_THREADS: "3", SLUICE_BATCH_ROWS: "64", SLUICE_PART_BYTES: "4096" };

interface Answer {
  readonly status: number;
  readonly text: string;
  /** The `parts` field of the invocation's log line (absent: one part). */
  readonly parts: unknown;
  /** The log line's `first_failed_record`. */
  readonly firstFailed: unknown;
}

for (const accepting of ["main", "every-thread"]) {
  describe(`a large body run as parts on several codec threads (SLUICE_ACCEPT=${accepting})`, () => {
    let whole: TestServer;
    let parts: TestServer;
    /**
     * Body rings a parts server may make in a test: a dozen by the main thread. With every thread
     * accepting, each of the three makes its own, for the parts it starts (18 seen), up to as many.
     */
    const maxRings = accepting === "every-thread" ? 3 * 12 : 12;

    /**
     * A server that cuts bodies as {@link PARTS} says, with `env` besides. With every thread accepting,
     * the thread that accepts a body cuts it, and its parts run on the threads that are idle.
     */
    async function startPartsServer(model: string, env: Record<string, string>): Promise<TestServer> {
      const server = await startTestServer(model, { ...PARTS, SLUICE_ACCEPT: accepting, ...env });
      if (accepting === "every-thread") {
        await until(() => server.logs.some((line) => line.includes("codec threads accept connections")), "accepting");
      }
      return server;
    }
    before(async () => {
      const model = modelDir(smallMlp());
      whole = await startTestServer(model, { ...PARTS, SLUICE_PART_BYTES: "0" });
      parts = await startPartsServer(model, {});
    });
    after(async () => {
      await whole.close();
      await parts.close();
    });

    async function answer(
      server: TestServer,
      body: string | Uint8Array,
      headers: Record<string, string>,
    ): Promise<Answer> {
      const logged = server.records.length;
      const response = await invoke(server, chunked(body), headers);
      const text = await response.text();
      // The log line is written once the answer has gone.
      for (let wait = 0; wait < 100 && !server.records.slice(logged).some((r) => r.msg === "invocation"); wait++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const line = server.records.slice(logged).find((record) => record.msg === "invocation");
      return { status: response.status, text, parts: line?.parts, firstFailed: line?.first_failed_record };
    }

    /**
     * Sends bodies until one is cut into parts again: a failed body's parts end within moments (their
     * threads are told to stop), and then none of them may be left holding a thread.
     */
    async function assertCutAgain(server: TestServer): Promise<void> {
      for (let attempt = 0; attempt < 50; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const next = await answer(server, csvBody(3000, 3), { "content-type": "text/csv" });
        assert.equal(next.status, 200);
        if (typeof next.parts === "number" && next.parts > 2) return;
      }
      assert.fail("no body was cut into parts again");
    }

    /** Runs `use` against a server of its own that cuts bodies as `parts` does, with `env` besides. */
    async function withPartsServer(env: Record<string, string>, use: (server: TestServer) => Promise<void>) {
      const server = await startPartsServer(modelDir(smallMlp()), env);
      try {
        await use(server);
      } finally {
        await server.close();
      }
    }

    async function both(body: string | Uint8Array, headers: Record<string, string>): Promise<[Answer, Answer]> {
      return [await answer(whole, body, headers), await answer(parts, body, headers)];
    }

    /**
     * {@link both}, the body sent to the parts server again until it is cut into parts: the parts of a
     * body that failed just before end within moments, and until then a thread they held is not idle.
     */
    async function bothCut(body: string | Uint8Array, headers: Record<string, string>): Promise<[Answer, Answer]> {
      const [one, first] = await both(body, headers);
      let many = first;
      for (let attempt = 0; attempt < 50 && !(Number(many.parts) > 2); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        many = await answer(parts, body, headers);
      }
      return [one, many];
    }

    it("answers a CSV body cut into parts exactly as in one piece, quoted fields and all", async () => {
      for (const quoteEvery of [0, 3]) {
        const [one, many] = await both(csvBody(3000, 11 + quoteEvery, quoteEvery), { "content-type": "text/csv" });
        assert.equal(one.status, 200);
        assert.equal(one.parts, undefined);
        assert.equal(many.status, 200);
        assert.ok(typeof many.parts === "number" && many.parts > 2, `parts: ${String(many.parts)}`);
        assert.equal(many.text, one.text);
        assert.equal(many.text.split("\n").length, 3001);
      }
    });

    it("answers JSON Lines in parts, in RecordIO-protobuf too", async () => {
      const lines = csvBody(2000, 5)
        .trim()
        .split("\n")
        .map((row) => `[${row}]`)
        .join("\n");
      for (const accept of ["application/jsonlines", "application/x-recordio-protobuf"]) {
        const [one, many] = await both(lines, { "content-type": "application/jsonlines", accept });
        assert.equal(many.status, 200);
        assert.ok(typeof many.parts === "number" && many.parts > 2, `${accept} parts: ${String(many.parts)}`);
        assert.equal(many.text, one.text, accept);
      }
    });

    it("keeps a body whole when it cannot be cut, its answer cannot be joined, or it is binary", async () => {
      const rows = csvBody(2000, 6);
      const values = randomRows(2000, 4, 12);
      const recordIO = concat(
        Array.from({ length: 2000 }, (_, r) =>
          recordIOFrame(
            amazonRecord({ values: { type: "float32", values: Array.from(values.subarray(r * 4, r * 4 + 4)) } }),
          ),
        ),
      );
      const cases: [string | Uint8Array, Record<string, string>][] = [
        [`a,b,c,d\n${rows}`, { "content-type": "text/csv; header=present" }],
        [rows, { "content-type": "text/csv", accept: "application/json" }],
        [recordIO, { "content-type": "application/x-recordio-protobuf", accept: "text/csv" }],
      ];
      for (const [body, headers] of cases) {
        const [one, many] = await both(body, headers);
        assert.equal(many.status, 200);
        assert.equal(many.parts, undefined, JSON.stringify(headers));
        assert.equal(many.text, one.text);
      }
    });

    it("names a bad record in a later part by its index, byte offset and line in the whole body", async () => {
      // Blank lines (skipped) and CRLF endings here and there, so that a record's line is not its index + 1.
      const withBlankLines = (rows: string[]) =>
        rows.map((row, r) => (r % 97 === 5 ? `${row}\n\n` : r % 31 === 3 ? `${row}\r` : row)).join("\n");
      const cases = [
        { type: "text/csv", rows: csvBody(3000, 8).split("\n"), bad: "0.5,oops,0.5,0.5" },
        { type: "application/jsonlines", rows: jsonLinesBody(3000, 8).split("\n"), bad: "[0.5, 0.5, oops, 0.5]" },
      ];
      for (const { type, rows, bad } of cases) {
        for (const badIndex of [700, 1500, 2500, 2999]) {
          const body = withBlankLines(rows.map((row, r) => (r === badIndex ? bad : row)));
          const [one, many] = await bothCut(body, { "content-type": type });
          assert.equal(one.status, 400);
          assert.equal(many.status, 400);
          const expected = JSON.parse(one.text) as Record<string, unknown>;
          const got = JSON.parse(many.text) as Record<string, unknown>;
          const where = `${type} record ${badIndex}`;
          assert.ok(Number(many.parts) > 2, where);
          assert.equal(got.recordIndex, badIndex, where);
          assert.ok(typeof expected.line === "number" && expected.line > badIndex + 1, where);
          for (const key of ["byteOffset", "line", "code", "error"])
            assert.equal(got[key], expected[key], `${where}: ${key}`);
        }
      }
    });

    it("answers bad records in later parts with placeholders, in order, under SLUICE_ON_RECORD_ERROR=placeholder", async () => {
      await withPartsServer({ SLUICE_ON_RECORD_ERROR: "placeholder" }, async (server) => {
        const rows = csvBody(3000, 9).trim().split("\n");
        const bad = [5, 1200, 2999];
        for (const index of bad) rows[index] = "x,y,z,w";
        const got = await answer(server, `${rows.join("\n")}\n`, { "content-type": "text/csv" });
        assert.equal(got.status, 200);
        assert.ok(typeof got.parts === "number" && got.parts > 2);
        const answered = got.text.trim().split("\n");
        assert.equal(answered.length, 3000);
        const good = (
          await answer(whole, `${rows.filter((_, i) => !bad.includes(i)).join("\n")}\n`, {
            "content-type": "text/csv",
          })
        ).text
          .trim()
          .split("\n");
        assert.deepEqual(
          answered.filter((_, i) => !bad.includes(i)),
          good,
        );
        for (const index of bad) assert.equal(answered[index], "ERROR");

        // The log names the first of them, located in the whole body, when it is in a later part too.
        for (const first of [5, 1200]) {
          const later = rows.map((row, i) => (i < first && bad.includes(i) ? csvBody(1, 9).trim() : row));
          const logged = await answer(server, `${later.join("\n")}\n`, { "content-type": "text/csv" });
          assert.ok(typeof logged.parts === "number" && logged.parts > 2);
          const byteOffset = later.slice(0, first).reduce((bytes, row) => bytes + row.length + 1, 0);
          assert.deepEqual(logged.firstFailed, {
            record_index: first,
            line: first + 1,
            byte_offset: byteOffset,
            code: "CSV_FIELD_NOT_NUMERIC",
            reason: 'field 0 "x" is not a number',
          });
        }
      });
    });

    it("fails a body that stalls after several parts with 408, and a client that leaves with none left running", async () => {
      await withPartsServer({ SLUICE_BODY_IDLE_TIMEOUT_S: "1" }, async (server) => {
        const rows = csvBody(3000, 4);
        const stalled = hangingBody([rows, rows.slice(0, 100)]);
        const response = await invoke(server, stalled.stream, { "content-type": "text/csv" });
        assert.equal(response.status, 408);
        assert.equal(((await response.json()) as { code: string }).code, "BODY_IDLE_TIMEOUT");
        stalled.release();

        const leaving = hangingBody([rows, rows]);
        const client = new AbortController();
        const abandoned = invoke(server, leaving.stream, { "content-type": "text/csv" }, { signal: client.signal });
        const { gate } = server.running.service.ready();
        await until(() => gate.running === 1, "the upload to be admitted");
        await new Promise((resolve) => setTimeout(resolve, 100));
        client.abort();
        await assert.rejects(abandoned);
        leaving.release();

        await assertCutAgain(server);
        const statuses = server.records.filter((record) => record.msg === "invocation").map((line) => line.status);
        assert.ok(statuses.includes(408) && statuses.includes(499), JSON.stringify(statuses));
        assert.ok(
          server.running.service.bodyRingsCreated <= maxRings,
          `${server.running.service.bodyRingsCreated} rings`,
        );
      });
    });

    it("stops reading the body when the client stops reading the answer, though each part could end unread", async () => {
      // Rows of long numbers answered with three short ones: a part's answer is far below the 2 MiB answer
      // credit, so a part can end before its answer is read. The unread parts must hold the body back.
      await withPartsServer({ SLUICE_RESPONSE_HOLD_MB: "0" }, async (server) => {
        // 28 MiB in, about 5 MiB out. Socket and stream buffers take up to ~17 MB of answers: about 16 MB
        // of this body (read unbounded, all 29 MB of it).
        await assertBodyWaitsForUnreadAnswer(
          server,
          encoder.encode("0.123456789012345,-0.98765432109876,0.55555555555555,-0.1010101010101\n".repeat(4096)),
          400,
          (total) => 0.75 * total,
        );
      });
    });

    it("answers a chunked body whose chunk framing breaks after several parts with 400, whole or in parts", async () => {
      const rows = csvBody(3000, 12);
      let body =
        "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (let at = 0; at < rows.length; at += 5000) body += chunkOf(rows.slice(at, at + 5000));
      for (const server of [whole, parts]) {
        const logged = server.records.length;
        const raw = await rawExchange(server.running.port, `${body}zz\r\n`);
        assert.match(raw, /^HTTP\/1\.1 400 /, raw.slice(0, 200));
        assert.equal(lastJson(raw).code, "MALFORMED_REQUEST");
        await until(
          () => server.records.slice(logged).some((line) => line.msg === "invocation" && line.status === 400),
          "the invocation's log line, as a 400",
        );
        const line = server.records.slice(logged).find((record) => record.msg === "invocation");
        if (server === parts) assert.ok(typeof line?.parts === "number" && line.parts > 2, JSON.stringify(line));
      }
      await assertCutAgain(parts);
    });

    it("refuses a body over the payload limit with 413, counting every part", async () => {
      await withPartsServer({ SAGEMAKER_MAX_PAYLOAD_IN_MB: "1" }, async (server) => {
        const text = csvBody(30_000, 10);
        assert.ok(text.length > 1024 * 1024);
        const got = await answer(server, text, { "content-type": "text/csv" });
        assert.equal(got.status, 413);
        assert.equal((await fetch(`${server.url}/ping`)).status, 200);
        await assertCutAgain(server);
        assert.ok(
          server.running.service.bodyRingsCreated <= maxRings,
          `${server.running.service.bodyRingsCreated} rings`,
        );
      });
    });
  });
}
