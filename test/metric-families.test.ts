import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { CounterFamily, HistogramFamily } from "../src/metric-families.js";
import { seededRandom } from "../src/testing/seeded-random.js";

/** prom-client's text for one metric of `registry` (its only one), to compare with a family's. */
const promClientText = async (registry: Registry) => `${await registry.metrics()}`;

describe("metric families", () => {
  it("write counters as prom-client writes them, series in the order they were first used", async () => {
    const registry = new Registry();
    const reference = new Counter({
      name: "requests_total",
      help: "Requests by status and type",
      labelNames: ["status", "type"],
      registers: [registry],
    });
    const family = new CounterFamily("requests_total", "Requests by status and type", ["status", "type"]);
    const random = seededRandom(11);
    const statuses = ["200", "400", "503"];
    const types = ["text/csv", "application/json", ""];
    for (let i = 0; i < 500; i++) {
      const status = statuses[Math.floor(random() * statuses.length)];
      const type = types[Math.floor(random() * types.length)];
      const by = Math.floor(random() * 1000);
      reference.inc({ status, type }, by);
      family.series(status, type).inc(by);
    }
    assert.equal(family.text(), await promClientText(registry));
  });

  it("write histograms as prom-client writes them: cumulative buckets, +Inf, sum and count", async () => {
    const registry = new Registry();
    const buckets = [0.001, 0.01, 0.1, 1, 10];
    const reference = new Histogram({
      name: "stage_seconds",
      help: "Seconds by stage",
      labelNames: ["stage"],
      buckets,
      registers: [registry],
    });
    const family = new HistogramFamily("stage_seconds", "Seconds by stage", buckets, ["stage"]);
    const random = seededRandom(12);
    // Values on the bounds themselves (`le` includes them), between them, and past the last.
    const values = [0, ...buckets, 25, ...Array.from({ length: 1000 }, () => 10 ** (random() * 6 - 4))];
    for (const [i, value] of values.entries()) {
      const stage = i % 3 === 0 ? "decode" : "model";
      reference.observe({ stage }, value);
      family.series(stage).observe(value);
    }
    assert.equal(family.text(), await promClientText(registry));
  });

  it("start a family without labels at 0, and write one without series as its header alone", () => {
    assert.equal(
      new CounterFamily("refusals_total", "Refused").text(),
      "# HELP refusals_total Refused\n# TYPE refusals_total counter\nrefusals_total 0\n",
    );
    assert.equal(
      new CounterFamily("answers_total", "Answers", ["status"]).text(),
      "# HELP answers_total Answers\n# TYPE answers_total counter\n",
    );
    const rows = new HistogramFamily("rows", "Rows", [1, 4]);
    rows.series().observe(3);
    assert.match(rows.text(), /^rows_bucket\{le="1"\} 0\nrows_bucket\{le="4"\} 1\nrows_bucket\{le="\+Inf"\} 1\n/m);
  });

  it("escape label values, and keep series apart whose values only join alike", () => {
    const family = new CounterFamily("odd_total", "Odd labels", ["a", "b"]);
    family.series('say "hi"\\\n', "x").inc();
    family.series("a\u0000b", "c").inc(2);
    family.series("a", "b\u0000c").inc(3);
    const lines = family.text().split("\n");
    assert.ok(lines.includes('odd_total{a="say \\"hi\\"\\\\\\n",b="x"} 1'), family.text());
    assert.ok(lines.includes('odd_total{a="a\u0000b",b="c"} 2'));
    assert.ok(lines.includes('odd_total{a="a",b="b\u0000c"} 3'));
    assert.throws(() => family.series("only one"), /labels a, b take 2 value\(s\), not 1/);
  });
});
