/**
 * Tabular models as their converters write them (scikit-learn through skl2onnx's operators: tree
 * ensembles, ZipMap, string labels, a LabelEncoder on a text input; XGBoost boosters as SageMaker saves
 * them), served over HTTP in every built-in format, against the answers of the library that trained
 * them (`scripts/make-tabular-fixtures.py` wrote both).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../src/errors.js";
import { readXgbBooster } from "../src/model/xgboost/booster.js";
import { boostersToOnnx } from "../src/model/xgboost/booster-to-onnx.js";
import { temporaryDirectory } from "../src/temporary-directory.js";
import { flattenJson } from "./support/answers.js";
import {
  amazonRecord,
  concat,
  readAmazonRecord,
  readRecordIOFrames,
  readTfExample,
  readTfRecordFrames,
  recordIOFrame,
  tfExample,
  tfRecordFrame,
} from "./support/binary-writers.js";
import { modelDir, smallMlp } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/tabular/", import.meta.url));
const PLUGIN = fileURLToPath(new URL("fixtures/raw-float32-plugin.js", import.meta.url));

type Cell = number | string | null;
type Value = number | string;

interface Expected {
  readonly rows: Cell[][];
  /** Per row, the answer flattened in output order (label first, then values). */
  readonly answers: Value[][];
  /** Output names in model order, with whether each holds strings. */
  readonly outputs: readonly string[];
}

function expectedOf(fixture: string): Expected {
  const raw = JSON.parse(readFileSync(path.join(FIXTURES, `${fixture}.expected.json`), "utf8"));
  if (fixture.startsWith("forest-")) {
    return {
      rows: raw.rows,
      answers: raw.label.map((label: Value, i: number) => [label, ...raw.probabilities[i]]),
      outputs: ["label", fixture === "forest-tensor" ? "probabilities" : "output_probability"],
    };
  }
  if (fixture === "label-encoder") {
    return { rows: raw.rows, answers: raw.variable.map((v: number) => [v]), outputs: ["variable"] };
  }
  return { rows: raw.rows, answers: raw.predictions, outputs: ["predictions"] };
}

/** The model file an XGBoost fixture was saved as. */
const expectedFile = (fixture: string): string =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${fixture}.expected.json`), "utf8")).file;

const csvField = (cell: Cell) =>
  cell === null ? "" : typeof cell === "string" ? `"${cell.replaceAll('"', '""')}"` : String(cell);

/** The request body for `rows` in `contentType`; the label-encoder model takes `cat` (text) and `num`. */
function requestBody(contentType: string, rows: Cell[][], textFirst: boolean): Uint8Array {
  const encode = (text: string) => new TextEncoder().encode(text);
  const numbers = (row: Cell[]) =>
    (textFirst ? row.slice(1) : row).map((v) => (v === null ? Number.NaN : (v as number)));
  switch (contentType) {
    case "text/csv":
      return encode(rows.map((row) => `${row.map(csvField).join(",")}\n`).join(""));
    case "application/json":
      return encode(JSON.stringify({ instances: rows }));
    case "application/jsonlines":
      return encode(rows.map((row) => `${JSON.stringify(row)}\n`).join(""));
    case "application/x-recordio-protobuf":
      return concat(
        rows.map((row) =>
          recordIOFrame(
            textFirst
              ? amazonRecord({ cat: row[0] as string, num: { type: "float32", values: numbers(row) } })
              : amazonRecord({ values: { type: "float32", values: numbers(row) } }),
          ),
        ),
      );
    default:
      return concat(
        rows.map((row) =>
          tfRecordFrame(
            textFirst
              ? tfExample({ cat: { bytes: [row[0] as string] }, num: { float: numbers(row) } })
              : tfExample({ input: { float: numbers(row) }, features: { float: numbers(row) } }),
          ),
        ),
      );
  }
}

const flatten = (value: unknown) => flattenJson<Value>(value);

/** Splits CSV lines into fields, undoing quotes; numbers stay text (compared by {@link assertAnswers}). */
function csvRows(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => {
      const fields: string[] = [];
      for (let i = 0; i <= line.length; ) {
        if (line[i] === '"') {
          let end = i + 1;
          let field = "";
          for (;;) {
            const quote = line.indexOf('"', end);
            field += line.slice(end, quote);
            if (line[quote + 1] === '"') {
              field += '"';
              end = quote + 2;
            } else {
              i = quote + 2;
              break;
            }
          }
          fields.push(field);
        } else {
          const comma = line.indexOf(",", i);
          const end = comma === -1 ? line.length : comma;
          fields.push(line.slice(i, end));
          i = end + 1;
        }
      }
      return fields;
    });
}

/** The answer rows of `body` (in `accept`), each flattened in output order. */
function answerRows(accept: string, body: Uint8Array, outputs: readonly string[]): Value[][] {
  const text = () => new TextDecoder().decode(body);
  switch (accept) {
    case "text/csv":
      return csvRows(text());
    case "application/json":
      return (JSON.parse(text()) as { predictions: unknown[] }).predictions.map(flatten);
    case "application/jsonlines":
      return text()
        .trimEnd()
        .split("\n")
        .map((line) => flatten(JSON.parse(line)));
    case "application/x-recordio-protobuf":
      return readRecordIOFrames(body).map((payload) => {
        const { tensors, texts } = readAmazonRecord(payload);
        const keys = outputs.length === 1 ? ["score"] : outputs;
        return keys.flatMap((key): Value[] => texts[key] ?? tensors[key]);
      });
    default:
      return readTfRecordFrames(body).map((payload) => {
        const features = readTfExample(payload);
        return outputs.flatMap((name): Value[] => features[name]);
      });
  }
}

function assertAnswers(actual: Value[][], expected: Expected, what: string): void {
  assert.equal(actual.length, expected.answers.length, `${what}: one answer per record`);
  expected.answers.forEach((row, r) => {
    assert.equal(actual[r].length, row.length, `${what}: record ${r} has ${actual[r].length} values`);
    row.forEach((want, k) => {
      const got = actual[r][k];
      if (typeof want === "string") assert.equal(got, want, `${what}: record ${r} value ${k}`);
      else {
        const number = Number(got);
        // float32's precision: a survival time of 60 is 4e-6 from its neighbours.
        const tolerance = 1e-5 * Math.max(1, Math.abs(want));
        assert.ok(Math.abs(number - want) <= tolerance, `${what}: record ${r} value ${k} is ${got}, expected ${want}`);
      }
    });
  });
}

const FORMATS = [
  "text/csv",
  "application/json",
  "application/jsonlines",
  "application/x-recordio-protobuf",
  "application/x-tfrecord",
];

/** Every fixture with the library's answers beside it. */
const SERVED = readdirSync(FIXTURES)
  .filter((name) => name.endsWith(".expected.json"))
  .map((name) => name.slice(0, -".expected.json".length))
  .sort();

for (const fixture of SERVED) {
  describe(`the ${fixture} fixture, served over HTTP`, () => {
    let server: TestServer;
    const expected = expectedOf(fixture);
    const textFirst = fixture === "label-encoder";
    before(async () => {
      server = await startTestServer(path.join(FIXTURES, fixture));
    });
    after(() => server.close());

    for (const contentType of FORMATS) {
      it(`answers ${contentType} as the library does, in every output format`, async () => {
        const body = requestBody(contentType, expected.rows, textFirst);
        for (const accept of FORMATS) {
          const response = await invoke(server, body, { "content-type": contentType, accept });
          const answer = new Uint8Array(await response.arrayBuffer());
          assert.equal(response.status, 200, new TextDecoder().decode(answer));
          assertAnswers(answerRows(accept, answer, expected.outputs), expected, `${contentType} → ${accept}`);
        }
      });
    }
  });
}

describe("ZipMap outputs", () => {
  it("are written as an object keyed by class in JSON, with int and string labels", async () => {
    for (const [fixture, keys] of [
      ["forest-zipmap", ["0", "1", "2"]],
      ["forest-strings", ["setosa", "versicolor", "virginica"]],
    ] as const) {
      const server = await startTestServer(path.join(FIXTURES, fixture));
      try {
        const response = await invoke(server, "0.5,-1,0.25,2\n", {
          "content-type": "text/csv",
          accept: "application/jsonlines",
        });
        const answer = JSON.parse(await response.text()) as {
          label: Value;
          output_probability: Record<string, number>;
        };
        assert.deepEqual(Object.keys(answer), ["label", "output_probability"]);
        assert.deepEqual(Object.keys(answer.output_probability), keys);
        const sum = Object.values(answer.output_probability).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
        assert.ok(server.logs.some((line) => line.includes("ZipMap output(s) output_probability unwrapped")));
      } finally {
        await server.close();
      }
    }
  });
});

describe("missing values", () => {
  it("are refused for a model without tree ensembles, naming the record and the input", async () => {
    const server = await startTestServer(modelDir(smallMlp()));
    try {
      const response = await invoke(server, "1,2,3,4\n1,,3,4\n", { "content-type": "text/csv" });
      assert.equal(response.status, 400);
      const error = (await response.json()) as { code: string; error: string; recordIndex: number };
      assert.equal(error.recordIndex, 1);
      assert.match(error.error, /field 1 is empty, and "features" takes no missing values/);
      const json = await invoke(server, '{"instances": [[1, null, 3, 4]]}', { "content-type": "application/json" });
      assert.equal(json.status, 400);
      assert.match(((await json.json()) as { error: string }).error, /is null, and "features" takes no missing values/);
      assert.equal((await invoke(server, "1,2,3,4\n", { "content-type": "text/csv" })).status, 200);
    } finally {
      await server.close();
    }
  });

  it("follow sluice.json's missingValues: nan for any model, refuse even for trees", async () => {
    const mlp = modelDir(smallMlp());
    writeFileSync(path.join(mlp, "sluice.json"), JSON.stringify({ missingValues: "nan" }));
    const lenient = await startTestServer(mlp);
    try {
      const response = await invoke(lenient, "1,,3,4\n", { "content-type": "text/csv", accept: "application/json" });
      assert.equal(response.status, 200);
      // NaN in, NaN out: the MLP has no missing-value handling, which is why this is opt-in.
      assert.deepEqual(await response.json(), { predictions: [[null, null, null]] });
    } finally {
      await lenient.close();
    }
    const trees = temporaryDirectory("sluice-refuse");
    cpSync(path.join(FIXTURES, "xgb-binary-logistic"), trees, { recursive: true });
    writeFileSync(path.join(trees, "sluice.json"), JSON.stringify({ missingValues: "refuse" }));
    const strict = await startTestServer(trees);
    try {
      const response = await invoke(strict, ",1,2,3,4,5\n", { "content-type": "text/csv" });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { code: string }).code, "CSV_FIELD_NOT_NUMERIC");
    } finally {
      await strict.close();
    }
  });
});

describe("Python's NaN in JSON", () => {
  it("is a missing value to an XGBoost booster, as json.dumps writes one and the library reads it", async () => {
    const fixture = "xgb-binary-logistic";
    const expected = expectedOf(fixture);
    assert.ok(
      expected.rows.some((row) => row.includes(null)),
      "the fixture has missing values",
    );
    // `json.dumps(row)` of a row with float("nan") in it: `NaN`, and a space after each comma.
    const dumped = (row: Cell[]) => `[${row.map((cell) => (cell === null ? "NaN" : JSON.stringify(cell))).join(", ")}]`;
    const server = await startTestServer(path.join(FIXTURES, fixture));
    try {
      for (const [contentType, body] of [
        ["application/jsonlines", `${expected.rows.map(dumped).join("\n")}\n`],
        ["application/json", `{"instances": [${expected.rows.map(dumped).join(", ")}]}`],
        [
          "application/jsonlines",
          `${expected.rows.map((row) => `{"id": 7, "features": ${dumped(row)}}`).join("\n")}\n`,
        ],
      ]) {
        const response = await invoke(server, body, { "content-type": contentType, accept: "text/csv" });
        const answer = new Uint8Array(await response.arrayBuffer());
        assert.equal(response.status, 200, new TextDecoder().decode(answer));
        assertAnswers(answerRows("text/csv", answer, expected.outputs), expected, contentType);
      }
    } finally {
      await server.close();
    }
  });
});

describe("sparse records", () => {
  it("leave out a feature as missing for an XGBoost booster (as XGBoost reads them), as 0 for another model", async () => {
    const fixture = "xgb-binary-logistic";
    const expected = expectedOf(fixture);
    // Each row's present features only, by key: the missing ones (null) are simply not listed.
    const sparse = concat(
      expected.rows.map((row) => {
        const present = row.flatMap((cell, k) => (cell === null ? [] : [k]));
        return recordIOFrame(
          amazonRecord({
            values: {
              type: "float32",
              values: present.map((k) => row[k] as number),
              keys: present,
              shape: [row.length],
            },
          }),
        );
      }),
    );
    const server = await startTestServer(path.join(FIXTURES, fixture));
    try {
      const response = await invoke(server, sparse, {
        "content-type": "application/x-recordio-protobuf",
        accept: "text/csv",
      });
      assert.equal(response.status, 200);
      assertAnswers(
        answerRows("text/csv", new Uint8Array(await response.arrayBuffer()), expected.outputs),
        expected,
        fixture,
      );
      const loaded = server.records.find((record) => record.msg === "model loaded");
      assert.equal(loaded?.sparse_absent_values, "missing, as XGBoost reads them");
    } finally {
      await server.close();
    }
    const mlp = await startTestServer(modelDir(smallMlp()));
    try {
      const answer = async (body: Uint8Array) =>
        (await invoke(mlp, body, { "content-type": "application/x-recordio-protobuf", accept: "text/csv" })).text();
      const keyed = amazonRecord({ values: { type: "float32", values: [1.5, -2], keys: [0, 2], shape: [4] } });
      const dense = amazonRecord({ values: { type: "float32", values: [1.5, 0, -2, 0] } });
      assert.equal(await answer(recordIOFrame(keyed)), await answer(recordIOFrame(dense)));
    } finally {
      await mlp.close();
    }
  });
});

/** A tree of one node: a leaf worth `value`. */
const leafTree = (value: number) => ({
  left_children: [-1],
  right_children: [-1],
  split_indices: [0],
  split_conditions: [value],
  default_left: [0],
});

/**
 * A booster document as `save_model` writes JSON, over two features, of three trees: one round of three
 * classes for a `multi:` objective, else three rounds of one output.
 */
const threeTreeBooster = (objective: string, baseScore: string, trees: readonly object[]) => ({
  learner: {
    learner_model_param: { base_score: baseScore, num_class: "3", num_feature: "2" },
    objective: { name: objective },
    gradient_booster: {
      name: "gbtree",
      model: { trees, tree_info: objective.startsWith("multi:") ? [0, 1, 2] : [0, 0, 0] },
    },
  },
  version: [3, 1, 0],
});

describe("XGBoost artifacts", () => {
  it("refuse to load an objective Sluice does not convert, naming it", async () => {
    const server = await startTestServer(path.join(FIXTURES, "xgb-unsupported-objective"), {}, { waitForModel: false });
    try {
      await assert.rejects(
        server.running.modelLoaded,
        /XGBoost objective reg:quantileerror is not one Sluice converts \(reg:squarederror, .*count:poisson/,
      );
    } finally {
      await server.close();
    }
  });

  it("take a base score per class (XGBoost ≥ 3.1's multi-class intercept); refuse one that does not fit, and a loop", async () => {
    // Three classes, each one leaf, so that the margins are the base scores plus the leaves.
    const serve = (objective: string, baseScore: string, firstTree: object = leafTree(0.5)) => {
      const dir = temporaryDirectory("sluice-xgb-intercept");
      mkdirSync(dir, { recursive: true });
      const trees = [firstTree, leafTree(-0.25), leafTree(0)];
      writeFileSync(path.join(dir, "xgboost-model"), JSON.stringify(threeTreeBooster(objective, baseScore, trees)));
      return startTestServer(dir, {}, { waitForModel: false });
    };
    const server = await serve("multi:softprob", "[1E-1,-2E-1,3E-1]");
    try {
      await server.running.modelLoaded;
      const response = await invoke(server, "1,2\n", { "content-type": "text/csv", accept: "application/json" });
      const margins = [0.1 + 0.5, -0.2 - 0.25, 0.3 + 0];
      const sum = margins.reduce((total, margin) => total + Math.exp(margin), 0);
      const want = margins.map((margin) => Math.exp(margin) / sum);
      const got = ((await response.json()) as { predictions: number[][] }).predictions[0];
      assert.equal(got.length, 3);
      for (const [k, value] of got.entries()) {
        assert.ok(Math.abs(value - want[k]) < 1e-6, `class ${k}: ${value}, expected ${want[k]}`);
      }
    } finally {
      await server.close();
    }
    // A first tree whose root's children are both node 1: a damaged file.
    const loop = { ...leafTree(0), left_children: [1, -1], right_children: [1, -1], split_conditions: [0.5, 1] };
    for (const [objective, baseScore, reason, firstTree] of [
      ["multi:softprob", "[1E-1,2E-1]", /base_score has 2 values for 3 output\(s\)/],
      ["multi:softprob", "[]", /base_score is not a number/],
      ["count:poisson", "0E0", /base_score 0 is not positive, as a log link needs/],
      ["binary:logistic", "1E0", /base_score 1 is not a probability in \(0, 1\)/],
      ["multi:softprob", "[0E0]", /tree 0 is not a tree \(node 1 is missing or reached twice\)/, loop],
      [
        "reg:squarederror",
        "5E-1",
        /tree 0 has vector leaves \(multi_strategy=multi_output_tree\)/,
        { ...leafTree(1), tree_param: { size_leaf_vector: "3" } },
      ],
    ] as const) {
      const refused = await serve(objective, baseScore, firstTree);
      try {
        await assert.rejects(refused.running.modelLoaded, reason);
      } finally {
        await refused.close();
      }
    }
  });

  it("of a k-fold training vote as SageMaker's container does: the most common class, the smallest on a tie", async () => {
    // Three multi:softmax folds of one round: each class one leaf, so a fold answers the class it favours.
    const fold = (favoured: number) =>
      threeTreeBooster(
        "multi:softmax",
        "5E-1",
        [0, 1, 2].map((k) => leafTree(k === favoured ? 1 : 0)),
      );
    for (const [favoured, winner] of [
      [[2, 1, 2], 2],
      [[1, 2, 0], 0],
    ] as const) {
      const dir = temporaryDirectory("sluice-xgb-folds");
      for (const [k, klass] of favoured.entries()) {
        writeFileSync(path.join(dir, `xgboost-model-${k}`), JSON.stringify(fold(klass)));
      }
      const server = await startTestServer(dir);
      try {
        const response = await invoke(server, "1,2\n", { "content-type": "text/csv" });
        assert.equal((await response.text()).trim(), String(winner), `folds favouring ${favoured}`);
        assert.ok(
          server.logs.some((line) =>
            line.includes("3 folds (xgboost-model-0, xgboost-model-1, xgboost-model-2) voting"),
          ),
        );
      } finally {
        await server.close();
      }
    }
    // Folds that are not of one training.
    const dir = temporaryDirectory("sluice-xgb-folds");
    const wider = fold(0);
    wider.learner.learner_model_param.num_feature = "3";
    writeFileSync(path.join(dir, "xgboost-model-0"), JSON.stringify(fold(0)));
    writeFileSync(path.join(dir, "xgboost-model-1"), JSON.stringify(wider));
    const refused = await startTestServer(dir, {}, { waitForModel: false });
    try {
      await assert.rejects(refused.running.modelLoaded, /xgboost-model-1 \(multi:softmax, 3 features.*does not match/);
    } finally {
      await refused.close();
    }
  });

  it("damaged at random bytes, are converted or refused with the reason, never a crash", () => {
    const models = [
      "xgb-binary-logistic-binary",
      "xgb-reg-squarederror-dart-binary",
      "xgb-multi-softprob-binary",
      "xgb-binary-logistic",
      "xgb-multi-softprob",
    ].map((name) => readFileSync(path.join(FIXTURES, name, expectedFile(name))));
    let seed = 20261130;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let refused = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const bytes = Uint8Array.from(models[trial % models.length]);
      // A third of the trials damage the header, where the counts and sizes are.
      const span = trial % 3 === 0 ? 400 : bytes.length;
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
        bytes[Math.floor(random() * span)] = Math.floor(random() * 256);
      }
      const damaged = random() < 0.1 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      try {
        boostersToOnnx([readXgbBooster(damaged, "xgboost-model")], ["xgboost-model"]);
      } catch (error) {
        assert.ok(error instanceof ConfigError, `trial ${trial}: ${(error as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused > 500, `${refused} of 2000 damaged models refused`);
  });

  it("refuse a pickle, a truncated binary model and a file that is no model, saying what they are", async () => {
    const binary = readFileSync(path.join(FIXTURES, "xgb-binary-logistic-binary", "xgboost-model"));
    const refusals: [string, Uint8Array | undefined, RegExp][] = [
      ["xgb-pickle", undefined, /is a Python pickle.*pickle\.load\(open\('xgboost-model', 'rb'\)\).*save_model/s],
      ["truncated", binary.subarray(0, binary.length / 2), /as the binary format, it ends inside tree \d+'s \d+ nodes/],
      ["cut in its header", binary.subarray(0, 60), /as the binary format, it ends inside the learner's parameters/],
      ["not a model", new TextEncoder().encode("features,label\n1,2\n"), /is not an XGBoost model Sluice reads/],
    ];
    for (const [what, bytes, reason] of refusals) {
      let dir = path.join(FIXTURES, what);
      if (bytes !== undefined) {
        dir = temporaryDirectory("sluice-xgb-refused");
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, "xgboost-model"), bytes);
      }
      const server = await startTestServer(dir, {}, { waitForModel: false });
      try {
        await assert.rejects(server.running.modelLoaded, reason, what);
      } finally {
        await server.close();
      }
    }
  });
});

describe("string tensors and codecs that cannot carry them", () => {
  it("a plugin decoder without textInputs gets 415 naming the string input", async () => {
    const server = await startTestServer(path.join(FIXTURES, "label-encoder"), { SLUICE_PLUGINS: PLUGIN });
    try {
      const response = await invoke(server, recordIOFrame(new Uint8Array(12)), {
        "content-type": "application/x-recordio",
      });
      assert.equal(response.status, 415);
      const error = (await response.json()) as { code: string; error: string; supported: string[] };
      assert.equal(error.code, "TEXT_INPUT_UNSUPPORTED");
      assert.match(error.error, /model input "cat" takes strings/);
      assert.ok(error.supported.includes("text/csv"));
    } finally {
      await server.close();
    }
  });

  it("a plugin encoder without textOutputs gets 406 naming the string output, and the formats that carry it", async () => {
    const server = await startTestServer(path.join(FIXTURES, "forest-strings"), { SLUICE_PLUGINS: PLUGIN });
    try {
      const response = await invoke(server, "0.7,0.1,0.9,-1.7\n", {
        "content-type": "text/csv",
        accept: "application/x-raw-float32",
      });
      assert.equal(response.status, 406);
      const error = (await response.json()) as { code: string; error: string; supported: string[] };
      assert.equal(error.code, "NOT_ACCEPTABLE");
      assert.match(error.error, /codec raw-float32-answers cannot write text, and model output "\w+" is strings/);
      assert.ok(error.supported.includes("text/csv") && !error.supported.includes("application/x-raw-float32"));
      const csv = await invoke(server, "0.7,0.1,0.9,-1.7\n", { "content-type": "text/csv", accept: "text/csv" });
      assert.equal(csv.status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("the committed fixtures", () => {
  const python = "/usr/bin/python3";
  const hasTools = spawnSync(python, ["-c", "import xgboost, sklearn, onnx"], { stdio: "ignore" }).status === 0;
  it("hold the answers XGBoost itself gives today, called as SageMaker's XGBoost container calls it", {
    skip: !hasTools && "python3-xgboost is not installed",
  }, () => {
    const script = `
import json, sys, numpy as np, xgboost as xgb
out = {}
for name, file in json.loads(sys.argv[1]).items():
    expected = json.load(open(f"{sys.argv[2]}/{name}.expected.json"))
    rows = np.array([[np.nan if v is None else v for v in row] for row in expected["rows"]], dtype=np.float32)
    answers = []
    for fold in expected.get("folds", [file]):
        booster = xgb.Booster()
        booster.load_model(f"{sys.argv[2]}/{name}/{fold}")
        limit = getattr(booster, "best_ntree_limit", 0)
        answers.append(booster.predict(xgb.DMatrix(rows), ntree_limit=limit).reshape(len(rows), -1))
    if len(answers) == 1:
        out[name] = answers[0].tolist()
    elif "softmax" in name or "hinge" in name:
        votes = np.stack(answers).astype(int)[:, :, 0]
        depth = max(2, int(votes.max()) + 1)
        out[name] = [[float(np.bincount(votes[:, r], minlength=depth).argmax())] for r in range(len(rows))]
    else:
        out[name] = np.mean(answers, axis=0).tolist()
print(json.dumps(out))
`;
    const files = Object.fromEntries(
      SERVED.filter((name) => name.startsWith("xgb-")).map((name) => [name, expectedFile(name)]),
    );
    const result = spawnSync(python, ["-c", script, JSON.stringify(files), FIXTURES], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    const live = JSON.parse(result.stdout) as Record<string, number[][]>;
    for (const [name, predictions] of Object.entries(live)) {
      assertAnswers(predictions, expectedOf(name), `${name} (live XGBoost)`);
    }
  });
});
