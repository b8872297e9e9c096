/**
 * A storm of clients at once, as a busy job and its failures look to one server: valid bodies of every
 * size (small ones run on the main thread, large ones stream their answers past the hold), the same rows
 * as JSON Lines, JSON and RecordIO-protobuf, bodies with a bad record, clients that leave mid-body and
 * clients that leave mid-answer.
 * Every valid answer must equal what the rows answer alone, every bad body must name its record, every
 * request must be logged once, and nothing may be left held afterwards.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../src/testing/seeded-random.js";
import { amazonRecord, concat, recordIOFrame } from "./support/binary-writers.js";
import { campaignSetting } from "./support/campaign.js";
import { until } from "./support/hanging-body.js";
import { modelDir, smallMlp } from "./support/models.js";
import { requestOverNodeHttp, startTestServer, type TestServer } from "./support/server.js";

const CONCURRENCY = 3;
const CLIENTS = 8;
const REQUESTS = campaignSetting("SLUICE_STORM_REQUESTS", 160);
const SEED = campaignSetting("SLUICE_STORM_SEED", 2026);
const POOL_ROWS = 500;

const KINDS = [
  "csv",
  "jsonlines",
  "json",
  "recordio",
  "small",
  "large",
  "bad",
  "leave-mid-body",
  "leave-mid-answer",
] as const;

/** Sends the first part of `body`, then goes away without waiting for an answer. */
function leaveMidBody(url: string, body: string, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const request = http.request(`${url}/invocations`, { method: "POST", headers: { "content-type": "text/csv" } });
    request.on("error", () => {});
    // Once the first part has reached the socket, so that the server sees the request.
    request.write(body.slice(0, Math.max(1, body.length >> 1)), () =>
      setTimeout(() => {
        request.destroy();
        resolve();
      }, waitMs),
    );
  });
}

/** Sends all of `body`, then goes away after the first piece of the answer. */
function leaveMidAnswer(url: string, body: string): Promise<void> {
  return new Promise((resolve) => {
    const request = http.request(
      `${url}/invocations`,
      { method: "POST", headers: { "content-type": "text/csv" } },
      (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
        response.on("end", resolve);
        response.on("error", () => resolve());
      },
    );
    request.on("error", () => resolve());
    request.end(body);
  });
}

/**
 * A storm against a server started with `env` (besides the storm's own settings), after which at most
 * `maxRings` body rings may have been made; with `cuts`, some bodies must have been cut into parts.
 */
function storm(title: string, env: Record<string, string>, maxRings: number, cuts = false): void {
  describe(title, () => {
    let server: TestServer;
    const post = (body: string | Uint8Array, contentType: string) =>
      requestOverNodeHttp(server.url, { body, headers: { "content-type": contentType, accept: "text/csv" } });
    const random = seededRandom(SEED);
    const pool = Array.from({ length: POOL_ROWS }, () =>
      Array.from({ length: 4 }, () => Math.round((random() * 8 - 4) * 1000) / 1000),
    );
    /** Each pool row as a RecordIO frame of an Amazon Record. */
    const frames = pool.map((row) => recordIOFrame(amazonRecord({ values: { type: "float32", values: row } })));
    /** What each pool row answers alone, one CSV line each. */
    let alone: string[] = [];

    before(async () => {
      server = await startTestServer(modelDir(smallMlp()), {
        SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: String(CONCURRENCY),
        // Room for more than the clients: one that leaves holds its place until the server notices (a few
        // milliseconds), while the client has already sent its next request.
        SLUICE_MAX_QUEUED_INVOCATIONS: String(4 * CLIENTS),
        SLUICE_BATCH_ROWS: "128",
        SLUICE_RESPONSE_HOLD_MB: "1",
        ...env,
      });
      if (env.SLUICE_ACCEPT === "every-thread") {
        await until(() => server.logs.some((line) => line.includes("codec threads accept connections")), "accepting");
      }
      const calm = await post(pool.map((row) => `${row.join(",")}\n`).join(""), "text/csv");
      assert.equal(calm.status, 200);
      alone = calm.text.split("\n").slice(0, POOL_ROWS);
      assert.equal(alone.length, POOL_ROWS);
      // Its log line first (a codec thread that accepted it posts the line up to 10 ms later), so that the
      // storm counts only its own.
      await until(() => server.records.some((record) => record.msg === "invocation"), "the first log line");
    });
    after(() => server?.close());

    it("answers every valid body as its rows answer alone, names every bad record, and holds nothing after", async () => {
      const gate = () => server.running.service.ready().gate;
      const linesBefore = server.records.filter((record) => record.msg === "invocation").length;
      const tasks = Array.from({ length: REQUESTS }, () => {
        const kind = KINDS[Math.floor(random() * KINDS.length)];
        // Large bodies' answers pass the 1 MB hold and stream: a client leaving mid-answer leaves one of those.
        const large = kind === "large" || kind === "leave-mid-answer";
        const rows =
          kind === "small" ? 1 : large ? 40_000 + Math.floor(random() * 20_000) : 1 + Math.floor(random() * 6000);
        const picks = Array.from({ length: rows }, () => Math.floor(random() * POOL_ROWS));
        return { kind, picks, badIndex: Math.floor(random() * rows), waitMs: Math.floor(random() * 30) };
      });
      const failures: string[] = [];
      let next = 0;
      const client = async () => {
        for (let index = next++; index < tasks.length; index = next++) {
          const { kind, picks, badIndex, waitMs } = tasks[index];
          const csv = picks.map((pick, at) =>
            kind === "bad" && at === badIndex ? "1,2,x,4\n" : `${pool[pick].join(",")}\n`,
          );
          const expected = picks.map((pick) => `${alone[pick]}\n`).join("");
          if (kind === "leave-mid-body") await leaveMidBody(server.url, csv.join(""), waitMs);
          else if (kind === "leave-mid-answer") await leaveMidAnswer(server.url, csv.join(""));
          else if (kind === "bad") {
            const answer = await post(csv.join(""), "text/csv");
            const error = answer.status === 400 ? (JSON.parse(answer.text) as { recordIndex?: number }) : undefined;
            if (error?.recordIndex !== badIndex)
              failures.push(`#${index} bad at ${badIndex}: ${answer.status} ${answer.text.slice(0, 200)}`);
          } else {
            const [body, contentType] =
              kind === "jsonlines"
                ? [picks.map((pick) => `${JSON.stringify(pool[pick])}\n`).join(""), "application/jsonlines"]
                : kind === "json"
                  ? [JSON.stringify({ instances: picks.map((pick) => pool[pick]) }), "application/json"]
                  : kind === "recordio"
                    ? [concat(picks.map((pick) => frames[pick])), "application/x-recordio-protobuf"]
                    : [csv.join(""), "text/csv"];
            const answer = await post(body, contentType);
            if (answer.status !== 200 || answer.text !== expected) {
              failures.push(
                `#${index} ${kind} of ${picks.length} rows: ${answer.status}, ${answer.text.length} of ${expected.length} chars` +
                  (answer.status === 200 ? "" : `: ${answer.text.slice(0, 200)}`),
              );
            }
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      assert.deepEqual(failures, []);

      await until(() => gate().running === 0 && gate().queued === 0, "every slot to be released");
      const logged = () => server.records.filter((record) => record.msg === "invocation").length - linesBefore;
      await until(() => logged() >= REQUESTS, `one log line per request (${logged()} of ${REQUESTS})`);
      assert.equal(logged(), REQUESTS);
      if (cuts) {
        const cut = server.records.filter((record) => record.msg === "invocation" && Number(record.parts) > 1);
        assert.ok(cut.length > 0, "no body was cut into parts");
      }
      assert.ok(
        server.running.service.bodyRingsCreated <= maxRings,
        `${server.running.service.bodyRingsCreated} body rings made for ${CONCURRENCY} invocations at a time`,
      );
      const ping = await fetch(`${server.url}/ping`);
      assert.equal(ping.status, 200);
      const last = await post(`${pool[7].join(",")}\n`, "text/csv");
      assert.deepEqual([last.status, last.text], [200, `${alone[7]}\n`]);
    });
  });
}

storm("a storm of clients", {}, 2 * CONCURRENCY);

// Six codec threads for three invocations, and parts of 16 KiB: a body that arrives while threads are idle
// is cut (its bad record, its client leaving mid-body or mid-answer, in any part), one beside it is not.
// Each body runs at most two parts per spare thread.
storm(
  "a storm of clients, large bodies cut into parts",
  { SLUICE_CODEC_THREADS: "6", SLUICE_PART_BYTES: "16384" },
  2 * 6 + CONCURRENCY,
  true,
);

// The same, with the codec threads accepting connections themselves: the thread that accepts a body cuts
// it, and its parts run on the other threads. Each thread makes rings for the parts it starts, from a pool
// of its own, up to as many as the main thread makes above for all of them (66–72 in all, in runs of 160
// and 1000 requests).
storm(
  "a storm of clients, every thread accepting, large bodies cut into parts",
  { SLUICE_ACCEPT: "every-thread", SLUICE_CODEC_THREADS: "6", SLUICE_PART_BYTES: "16384" },
  6 * (2 * 6 + CONCURRENCY),
  true,
);
