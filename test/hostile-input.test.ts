/**
 * Hostile and unusual clients: byte-order marks, compressed bodies and decompression bombs, invalid
 * UTF-8, megabyte-long values that must not be echoed back, `q=0`, stalled uploads, queued clients that
 * leave, early refusals of bodies still being sent, protocol-level errors, bodies longer than their
 * Content-Length. Each case is a real request over a real socket.
 */
import assert from "node:assert/strict";
import type { Server } from "node:http";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import zlib from "node:zlib";
import { csvCodec } from "../codecs/csv.js";
import { jsonCodec } from "../codecs/json.js";
import { jsonLinesCodec } from "../codecs/jsonlines.js";
import { FramingError } from "../src/errors.js";
import { contextFor, decodeBody, signatureOf } from "../src/testing/index.js";
import { amazonRecord, recordIOFrame, tfExample, tfRecordFrame } from "./support/binary-writers.js";
import { hangingBody, until } from "./support/hanging-body.js";
import { modelDir, smallMlp } from "./support/models.js";
import { chunkOf, lastJson, rawExchange } from "./support/raw-exchange.js";
import { invoke, requestOverNodeHttp, startTestServer, type TestServer } from "./support/server.js";

const encoder = new TextEncoder();
const GOOD = "0.1,0.2,0.3,0.4";
const BOM = "\uFEFF";
const MB = 2 ** 20;

/** `text` in UTF-16, little- or big-endian. */
const utf16 = (text: string, order: "le" | "be"): Uint8Array => {
  const bytes = Buffer.from(text, "utf16le");
  return order === "le" ? bytes : bytes.swap16();
};

describe("hostile input over HTTP", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SLUICE_MAX_DECOMPRESSION_RATIO: "50",
      SAGEMAKER_MAX_PAYLOAD_IN_MB: "0",
    });
  });
  after(() => server.close());

  const csvAnswer = async (body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const response = await invoke(server, body, { "content-type": "text/csv", accept: "text/csv", ...headers });
    return { status: response.status, text: await response.text() };
  };

  it("skips a UTF-8 byte-order mark at the start of CSV and JSON Lines bodies", async () => {
    const plain = await csvAnswer(`${GOOD}\n0.5,0.6,0.7,0.8\n`);
    const marked = await csvAnswer(`${BOM}${GOOD}\n0.5,0.6,0.7,0.8\n`);
    assert.equal(marked.status, 200);
    assert.equal(marked.text, plain.text);
    const lines = await invoke(server, `${BOM}[0.1,0.2,0.3,0.4]\n`, {
      "content-type": "application/jsonlines",
      accept: "text/csv",
    });
    assert.equal(lines.status, 200);
    assert.equal((await lines.text()).trim().split("\n").length, 1);
  });

  it("refuses a UTF-16 body (as Excel's Unicode Text writes one) by its byte-order mark, naming the encoding", async () => {
    for (const [contentType, text] of [
      ["text/csv", `${GOOD}\n0.5,0.6,0.7,0.8\n`],
      ["application/jsonlines", "[0.1,0.2,0.3,0.4]\n"],
      ["application/json", '{"instances": [[0.1,0.2,0.3,0.4]]}'],
    ]) {
      for (const body of [utf16(BOM + text, "le"), utf16(BOM + text, "be")]) {
        const response = await invoke(server, body, { "content-type": contentType, accept: "text/csv" });
        assert.equal(response.status, 400, contentType);
        const answer = (await response.json()) as { code: string; error: string; byteOffset: number; line: number };
        assert.equal(answer.code, "BODY_NOT_UTF8", contentType);
        assert.match(answer.error, /^the text starts with byte F[EF], .*UTF-16.*read as UTF-8/, contentType);
        assert.equal(answer.byteOffset, 0);
        assert.equal(answer.line, 1);
      }
    }
    // And the server goes on serving.
    assert.equal((await csvAnswer(`${GOOD}\n`)).status, 200);
  });

  it("decodes gzip, deflate and br bodies, and several codings in the order applied", async () => {
    const text = `${GOOD}\n`.repeat(500);
    const plain = await csvAnswer(text);
    const compressed: [string, Uint8Array][] = [
      ["gzip", zlib.gzipSync(text)],
      ["deflate", zlib.deflateSync(text)],
      ["br", zlib.brotliCompressSync(text)],
      ["gzip, br", zlib.brotliCompressSync(zlib.gzipSync(text))],
    ];
    for (const [coding, body] of compressed) {
      const answer = await csvAnswer(body, { "content-encoding": coding });
      assert.equal(answer.status, 200, coding);
      assert.equal(answer.text, plain.text, coding);
    }
  });

  it("refuses a corrupt compressed body (400) and an unknown coding (415), never decoding encoded bytes", async () => {
    const corrupt = zlib.gzipSync(`${GOOD}\n`.repeat(50));
    corrupt[20] ^= 0xff;
    corrupt[21] ^= 0xff;
    const bad = await invoke(server, corrupt, { "content-type": "text/csv", "content-encoding": "gzip" });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "CONTENT_DECODING_FAILED");
    const unknown = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv", "content-encoding": "zstd" });
    assert.equal(unknown.status, 415);
    assert.equal(((await unknown.json()) as { code: string }).code, "UNSUPPORTED_CONTENT_ENCODING");
  });

  it("stops a decompression bomb at the ratio limit (413)", async () => {
    const bomb = zlib.gzipSync(new Uint8Array(64 * MB).fill(0x30));
    const response = await invoke(server, bomb, { "content-type": "text/csv", "content-encoding": "gzip" });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, "DECOMPRESSION_RATIO_EXCEEDED");
  });

  it("refuses invalid UTF-8 in JSON Lines (400) and reports the byte offsets of lines after multi-byte text", async () => {
    const invalid = new Uint8Array([...encoder.encode("[0.1,0.2,0.3,0.4]\n[0.1,0.2,0.3,"), 0xff, 0x5d, 0x0a]);
    const refused = await invoke(server, invalid, { "content-type": "application/jsonlines" });
    assert.equal(refused.status, 400);
    const body = (await refused.json()) as { code: string; recordIndex: number; byteOffset: number };
    assert.equal(body.code, "INVALID_UTF8");
    assert.equal(body.recordIndex, 1);
    assert.equal(body.byteOffset, 18);
    const first = '{"features":[0.1,0.2,0.3,0.4],"note":"né"}\n';
    const offset = await invoke(server, `${first}[1,2]\n`, { "content-type": "application/jsonlines" });
    assert.equal(offset.status, 400);
    assert.equal(((await offset.json()) as { byteOffset: number }).byteOffset, encoder.encode(first).length);
  });

  it("refuses a JSON Lines line longer than the record limit (400), without holding more", async () => {
    const line = new Uint8Array(65 * MB).fill(0x31);
    // node:http, not fetch: fetch drops a connection whose answer comes before its body has gone.
    const { status, text } = await requestOverNodeHttp(server.url, {
      body: line,
      headers: { "content-type": "application/jsonlines" },
      ownConnection: true,
    });
    assert.equal(status, 400);
    assert.equal((JSON.parse(text) as { code: string }).code, "RECORD_TOO_LARGE");
  });

  it("refuses values nested 100 000 deep and more as the record's error (400), wherever a record sits", async () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    const bodies: [string, string][] = [
      ["application/json", deep],
      ["application/json", `{"instances": [${deep}]}`],
      ["application/json", `{"features": ${deep}}`],
      ["application/json", `{"inputs": {"features": ${deep}}}`],
      ["application/jsonlines", `[0.1,0.2,0.3,0.4]\n${deep}\n`],
    ];
    for (const [type, body] of bodies) {
      const response = await invoke(server, body, { "content-type": type });
      const answer = (await response.json()) as { code: string; recordIndex: number };
      assert.equal(response.status, 400, `${type} ${body.slice(0, 30)}`);
      assert.equal(answer.code, "JSON_NESTED_TOO_DEEP");
      assert.equal(answer.recordIndex, type === "application/jsonlines" ? 1 : 0);
    }
    // Four levels, for a model whose record is one: still read.
    const nested = await invoke(server, "[[[[0.1,0.2],[0.3,0.4]]]]", { "content-type": "application/json" });
    assert.equal(nested.status, 200);
    // Deep nesting where a number should be is named in the message without following it to the end.
    const deepObject = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    for (const body of [`[[0.1,0.2,{"a":${deep}}]]`, `{"features": ${deepObject}}`]) {
      const response = await invoke(server, body, { "content-type": "application/json" });
      assert.equal(response.status, 400, body.slice(0, 30));
      assert.equal(((await response.json()) as { code: string }).code, "JSON_VALUE_NOT_NUMERIC");
    }
  });

  it("never echoes a megabyte of client data, in any codec, in the answer or the log", async () => {
    const huge = "x".repeat(MB);
    const cases: [string, string | Uint8Array, Record<string, string>][] = [
      ["csv", `${huge},1,2,3\n`, { "content-type": "text/csv" }],
      ["json", `[${JSON.stringify(huge)},1,2,3]`, { "content-type": "application/json" }],
      ["jsonlines", `{${JSON.stringify(huge)}:[1,2,3,4]}\n`, { "content-type": "application/jsonlines" }],
      [
        "recordio-protobuf",
        recordIOFrame(
          amazonRecord({
            [huge]: { type: "float32", values: [1, 2] },
            [`${huge}2`]: { type: "float32", values: [3, 4] },
          }),
        ),
        { "content-type": "application/x-recordio-protobuf" },
      ],
      [
        "tfrecord",
        tfRecordFrame(tfExample({ [huge]: { float: [1, 2] }, [`${huge}2`]: { float: [3, 4] } })),
        { "content-type": "application/x-tfrecord" },
      ],
      ["content-type", `${GOOD}\n`, { "content-type": `text/${"y".repeat(8000)}` }],
      ["accept", `${GOOD}\n`, { "content-type": "text/csv", accept: `text/${"y".repeat(8000)}` }],
    ];
    for (const [name, body, headers] of cases) {
      const logged = server.logs.length;
      const { status, text } = await requestOverNodeHttp(server.url, { body, headers, ownConnection: true });
      assert.ok(status >= 400, name);
      assert.ok(text.length < 4096, `${name}: a ${text.length}-byte error body`);
      const lines = server.logs.slice(logged);
      assert.ok(lines.length > 0 && lines.every((line) => line.length < 4096), `${name}: a long log line`);
    }
  });

  it("honours q=0: `*/*, text/csv;q=0` never answers text/csv", async () => {
    const response = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv", accept: "*/*, text/csv;q=0" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    await response.arrayBuffer();
    const none = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv", accept: "text/csv;q=0" });
    assert.equal(none.status, 406);
    await none.arrayBuffer();
  });

  it("lets a client that sends its whole body before reading read the 400 of a bad first record", async () => {
    // Like most HTTP clients (the platform's included): write the whole chunked body, then read. At 48 MB
    // the body outgrows the sockets' buffers: the server must go on reading it after the refusal.
    const rows = `${GOOD}\n`.repeat(2048);
    const block = `${rows.length.toString(16)}\r\n${rows}\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.running.port, "127.0.0.1");
      socket.pause();
      let received = "";
      socket.on("error", reject);
      socket.write(
        "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n" +
          "11\r\nnot,a,number,row\n\r\n",
      );
      let blocks = 0;
      const send = () => {
        while (blocks++ < 1500) {
          if (!socket.write(block)) {
            socket.once("drain", send);
            return;
          }
        }
        socket.write("0\r\n\r\n", () => {
          socket.on("data", (data) => {
            received += data.toString();
            if (received.includes("}")) {
              socket.destroy();
              resolve(received);
            }
          });
          socket.resume();
        });
      };
      send();
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /CSV_FIELD_NOT_NUMERIC|CSV_WIDTH_MISMATCH/);
  });

  it("takes a client that closes mid-body after reading its 400 for what it is, not for a malformed request", async () => {
    // As curl does: it stops sending a large body once the refusal arrives and closes the connection.
    const refusalsBefore = server.logs.filter((line) => line.includes("refused before routing")).length;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.running.port, "127.0.0.1");
      let received = "";
      socket.on("error", reject);
      socket.on("data", (data) => {
        received += data.toString();
        if (received.includes("}")) socket.end();
      });
      socket.on("close", () => resolve(received));
      socket.write(
        `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${100 * MB}\r\n\r\n` +
          `not,a,number,row\n${`${GOOD}\n`.repeat(4096)}`,
      );
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal(answer.match(/HTTP\/1\.1/g)?.length, 1, "one answer, not a second refusal after it");
    await until(() => server.logs.some((line) => line.includes("CSV_FIELD_NOT_NUMERIC")), "the invocation's log line");
    assert.equal(server.logs.filter((line) => line.includes("refused before routing")).length, refusalsBefore);
  });

  it("answers protocol errors in JSON and serves HTTP/1.0 requests without Host", async () => {
    const malformed = await rawExchange(server.running.port, "GARBAGE\r\n\r\n");
    assert.match(malformed, /^HTTP\/1\.1 400 /);
    assert.equal(lastJson(malformed).code, "MALFORMED_REQUEST");
    const oversized = await rawExchange(
      server.running.port,
      `GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${"z".repeat(20_000)}\r\n\r\n`,
    );
    assert.match(oversized, /^HTTP\/1\.1 431 /);
    assert.equal(lastJson(oversized).code, "HEADERS_TOO_LARGE");
    const old = await rawExchange(server.running.port, "GET /ping HTTP/1.0\r\n\r\n");
    assert.match(old, /^HTTP\/1\.[01] 200 /);
  });

  it("answers a chunked body whose chunk framing breaks mid-way with 400, and logs it as such", async () => {
    const rows = `${GOOD}\n`.repeat(200);
    const head =
      "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n";
    // The body read by the main thread into a codec thread's ring, and by the codec thread that accepted it
    // (not cut into parts: the parts suite has those).
    const everyThread = await startTestServer(modelDir(smallMlp()), {
      SLUICE_ACCEPT: "every-thread",
      SLUICE_PART_BYTES: "0",
    });
    try {
      await until(
        () => everyThread.logs.some((line) => line.includes("codec threads accept connections")),
        "accepting",
      );
      for (const target of [server, everyThread]) {
        for (const [fault, parserCode] of [
          ["zz\r\n", "HPE_INVALID_CHUNK_SIZE"],
          [`${(rows.length + 4).toString(16)}\r\n${rows}XXXX--`, "HPE_STRICT"],
        ]) {
          const logged = target.records.length;
          const raw = await rawExchange(target.running.port, head + chunkOf(rows) + chunkOf(rows) + fault);
          assert.match(raw, /^HTTP\/1\.1 400 /, raw.slice(0, 200));
          assert.match(raw, /\r\nconnection: close\r\n/i);
          const body = lastJson(raw) as { code: string; error: string };
          assert.equal(body.code, "MALFORMED_REQUEST");
          assert.match(body.error, new RegExp(`request body could not be read: .*${parserCode}`));
          await until(
            () => target.records.slice(logged).some((line) => line.msg === "invocation" && line.status === 400),
            "the invocation's log line, as a 400",
          );
          const others = target.records.slice(logged);
          assert.ok(!others.some((line) => line.status === 499 || String(line.msg).includes("refused")));
        }
        const next = await invoke(target, `${GOOD}\n`, { "content-type": "text/csv" });
        assert.equal(next.status, 200);
      }
    } finally {
      await everyThread.close();
    }
  });

  it("answers 400 at once to a chunked body that breaks while its invocation waits for admission", async () => {
    const rows = `${GOOD}\n`.repeat(200);
    const head =
      "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const accept of ["main", "every-thread"]) {
      const target = await startTestServer(modelDir(smallMlp()), {
        SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "1",
        SLUICE_ACCEPT: accept,
      });
      const holder = hangingBody([`${GOOD}\n`]);
      try {
        const state = target.running.service.state;
        assert.equal(state.status, "ready");
        const holding = invoke(target, holder.stream, { "content-type": "text/csv" });
        await until(() => state.gate.running === 1, "the first invocation to start");
        const socket = net.connect(target.running.port, "127.0.0.1");
        let raw = "";
        socket.on("data", (data) => {
          raw += data.toString("latin1");
        });
        socket.on("error", () => {});
        const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
        socket.write(head + chunkOf(rows));
        await until(() => state.gate.queued === 1, "the second to queue");
        const logged = target.records.length;
        socket.write("zz\r\n");
        await closed;
        assert.match(raw, /^HTTP\/1\.1 400 /, `${accept}: ${raw.slice(0, 200)}`);
        assert.match(raw, /\r\nconnection: close\r\n/i);
        const body = lastJson(raw) as { code: string; error: string };
        assert.equal(body.code, "MALFORMED_REQUEST");
        assert.match(body.error, /request body could not be read: .*HPE_INVALID_CHUNK_SIZE/);
        assert.equal(state.gate.queued, 0);
        await until(
          () => target.records.slice(logged).some((line) => line.msg === "invocation" && line.status === 400),
          "the invocation's log line, as a 400",
        );
        assert.ok(!target.records.slice(logged).some((line) => line.status === 499));
        holder.release();
        assert.equal((await holding).status, 200);
      } finally {
        holder.release();
        await target.close();
      }
    }
  });

  it("delivers the whole answer to a body longer than its Content-Length, and logs what was sent", async () => {
    const body = `${GOOD}\n${GOOD}\n`;
    const raw = await rawExchange(
      server.running.port,
      `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nAccept: text/csv\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}these bytes are not a request`,
    );
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const answer = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    assert.equal(answer.split("\n").filter((line) => /^[0-9.e-]+,/.test(line)).length, 2);
    await until(
      () => server.logs.some((line) => line.includes("invocation status=200") && line.includes("records=2")),
      "the log line",
    );
  });
});

describe("stalled and departing clients", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(modelDir(smallMlp()), {
      SLUICE_BODY_IDLE_TIMEOUT_S: "1",
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: "1",
    });
  });
  after(() => server.close());
  const gate = () => {
    const state = server.running.service.state;
    assert.equal(state.status, "ready");
    return state.gate;
  };

  it("times a body by its silences, never by its length: Node's 300 s request timeout is off", () => {
    // Node answers 408 and closes the connection when a request's body is still arriving requestTimeout
    // ms after it began, however steadily it streams; a body streams at the model's pace.
    assert.equal((server.running.server as Server).requestTimeout, 0);
  });

  it("fails an upload that stalls for SLUICE_BODY_IDLE_TIMEOUT_S (408) and frees its slot", async () => {
    const stalled = hangingBody([`${GOOD}\n`]);
    const response = await invoke(server, stalled.stream, { "content-type": "text/csv" });
    assert.equal(response.status, 408);
    assert.equal(((await response.json()) as { code: string }).code, "BODY_IDLE_TIMEOUT");
    await until(() => gate().running === 0, "the slot to be released");
    stalled.release();
  });

  /** Sends the headers of a 100-byte CSV body and its first `part` bytes, on a connection of its own. */
  const partialUpload = (part: string) => {
    const socket = net.connect(server.running.port, "127.0.0.1");
    let received = "";
    socket.on("data", (data) => {
      received += data.toString("latin1");
    });
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n${part}`,
    );
    return { socket, closed, received: () => received };
  };

  it("fails a small declared body that stalls (run on the main thread) with 408 too, and frees its slot", async () => {
    const upload = partialUpload(`${GOOD}\n`);
    try {
      await until(() => /\r\n\r\n\{.*\}/.test(upload.received()), "the answer", 10_000);
      assert.match(upload.received(), /^HTTP\/1\.1 408 /);
      assert.match(upload.received(), /BODY_IDLE_TIMEOUT/);
      await until(() => gate().running === 0, "the slot to be released");
      await until(
        () => server.records.some((line) => line.msg === "invocation" && line.status === 408 && line.thread === "main"),
        "the invocation's log line",
      );
    } finally {
      upload.socket.destroy();
    }
  });

  it("frees the slot of a small declared body whose client goes away mid-body, and serves the next", async () => {
    const upload = partialUpload("0.1,0.2,");
    try {
      await until(() => gate().running === 1, "the invocation to start");
    } finally {
      upload.socket.destroy();
    }
    await upload.closed;
    await until(() => gate().running === 0, "the slot to be released");
    const next = await invoke(server, `${GOOD}\n`, { "content-type": "text/csv" });
    assert.equal(next.status, 200);
    assert.equal((await next.text()).trim().split("\n").length, 1);
  });

  it("does not count waiting on a client that stops reading its answer as an idle upload", async () => {
    // The answer backs up, the codec thread stops, the ring fills and the body is not read for longer
    // than the idle timeout: that is backpressure, and the answer must come whole once the client reads.
    const rows = 2_000_000;
    const body = Buffer.from(`${GOOD}\n`.repeat(rows));
    const answer = await new Promise<{ status: number; lines: number }>((resolve, reject) => {
      const request = http.request(
        `${server.url}/invocations`,
        { method: "POST", headers: { "content-type": "text/csv", accept: "text/csv", "content-length": body.length } },
        (response) => {
          response.pause();
          setTimeout(() => {
            let lines = 0;
            response.on("data", (chunk: Buffer) => {
              for (const byte of chunk) if (byte === 0x0a) lines++;
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, lines }));
            // A server that gave up on the upload cuts the answer short.
            response.on("close", () => resolve({ status: response.statusCode ?? 0, lines }));
            response.resume();
          }, 2500);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
    assert.deepEqual(answer, { status: 200, lines: rows });
  });

  it("drops a queued client that leaves from the queue at once", async () => {
    const holder = hangingBody([`${GOOD}\n`]);
    const holding = invoke(
      server,
      holder.stream,
      { "content-type": "text/csv" },
      { signal: AbortSignal.timeout(60_000) },
    );
    await until(() => gate().running === 1, "the first invocation to start");
    const leaving = new AbortController();
    const queued = invoke(server, `${GOOD}\n`, { "content-type": "text/csv" }, { signal: leaving.signal });
    await until(() => gate().queued === 1, "the second to queue");
    leaving.abort();
    await assert.rejects(queued);
    await until(() => gate().queued === 0, "the departed client to leave the queue", 2000);
    holder.release();
    assert.equal((await holding).status, 200);
  });
});

describe("byte-order marks split across chunks", () => {
  it("refuse a UTF-16 body at its first byte wherever it is cut, in every text format", () => {
    const signature = signatureOf({ features: ["float32", 4] });
    for (const codec of [csvCodec, jsonLinesCodec, jsonCodec]) {
      const text = codec === csvCodec ? `${GOOD}\n` : "[0.1,0.2,0.3,0.4]\n";
      const context = contextFor(signature, codec.mediaTypes[0]);
      for (const body of [utf16(BOM + text, "le"), utf16(BOM + text, "be")]) {
        for (const chunks of [[body], [body.subarray(0, 1), body.subarray(1)], [new Uint8Array(0), body]]) {
          assert.throws(
            () => decodeBody(codec, context, chunks),
            (error: unknown) => error instanceof FramingError && error.code === "BODY_NOT_UTF8",
            codec.name,
          );
        }
      }
    }
  });

  it("decode to the same records wherever the body is cut", () => {
    const signature = signatureOf({ features: ["float32", 4] });
    const texts = new Map([
      [csvCodec, `${GOOD}\n0.5,0.6,0.7,0.8\n`],
      [jsonLinesCodec, "[0.1,0.2,0.3,0.4]\n[0.5,0.6,0.7,0.8]\n"],
      [jsonCodec, '{"instances": [[0.1,0.2,0.3,0.4], [0.5,0.6,0.7,0.8]]}'],
    ]);
    for (const [codec, text] of texts) {
      const context = contextFor(signature, codec.mediaTypes[0]);
      const expected = decodeBody(codec, context, [encoder.encode(text)]);
      const marked = encoder.encode(BOM + text);
      for (let cut = 0; cut <= marked.length; cut++) {
        for (let second = cut; second <= Math.min(marked.length, cut + 3); second++) {
          const chunks = [marked.subarray(0, cut), marked.subarray(cut, second), marked.subarray(second)];
          assert.deepEqual(decodeBody(codec, context, chunks), expected, `${codec.name} cut at ${cut}/${second}`);
        }
      }
    }
  });

  it("refuse in JSON the start of a mark followed by anything else, at its first byte, wherever cut", () => {
    const context = contextFor(signatureOf({ features: ["float32", 4] }), jsonCodec.mediaTypes[0]);
    for (const start of [[0xef], [0xef, 0xbb]]) {
      const body = Uint8Array.from([...start, ...encoder.encode("[[0.1,0.2,0.3,0.4]]")]);
      for (let cut = 0; cut <= body.length; cut++) {
        assert.throws(
          () => decodeBody(jsonCodec, context, [body.subarray(0, cut), body.subarray(cut)]),
          (error: unknown) =>
            error instanceof FramingError &&
            error.code === "JSON_UNEXPECTED_CHARACTER" &&
            error.location.byteOffset === 0,
          `${start.length} byte(s) of a mark, cut at ${cut}`,
        );
      }
    }
  });
});
