import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { encodeRecordIOFrame } from "../codecs/framing/recordio-framer.js";
import { encodeTfRecordFrame } from "../codecs/framing/tfrecord-framer.js";
import { AmazonRecord } from "../codecs/protobuf/amazon-record.js";
import { TfExample } from "../codecs/protobuf/tf-example.js";
import { recordIOCodec, recordIOProtobufCodec } from "../codecs/recordio.js";
import { tfRecordCodec } from "../codecs/tfrecord.js";
import type { Codec } from "../src/codec/codec.js";
import type { OutputBatch } from "../src/codec/record-codec.js";
import { RecordError, SluiceError } from "../src/errors.js";
import type { ModelSignature, OutputValues, TensorSpec } from "../src/model/signature.js";
import { checkDecoderConformance, contextFor, decodeBody, signatureOf } from "../src/testing/index.js";
import { seededRandom } from "../src/testing/seeded-random.js";
import {
  amazonRecord,
  concat,
  lengthDelimited,
  parseWire,
  readAmazonRecord,
  readRecordIOFrames,
  readTfExample,
  readTfRecordFrames,
  recordIOFrame,
  tfExample,
  tfRecordFrame,
} from "./support/binary-writers.js";

const TESTDATA = new URL("../../test/vectors/sagemaker-python-sdk/", import.meta.url);
const twoInputs = signatureOf({ a: ["float32", 2], b: ["float32", 3] });
const single = signatureOf({ x: ["float32", 4] });

/** An Amazon Record whose one feature, `values`, is a sparse float32 tensor of raw value bytes and keys. */
const sparseFeature = (valueBytes: number[], keys: number[]) =>
  lengthDelimited(1, [
    ...lengthDelimited(1, Array.from(new TextEncoder().encode("values"))),
    ...lengthDelimited(2, lengthDelimited(2, [...lengthDelimited(1, valueBytes), ...lengthDelimited(2, keys)])),
  ]);

const decodeRecords = (
  records: Uint8Array[],
  signature: ModelSignature = single,
  codec: Codec = recordIOProtobufCodec,
) =>
  decodeBody(codec, contextFor(signature, codec.mediaTypes[0]), [
    concat(records.map(codec === tfRecordCodec ? tfRecordFrame : (r: Uint8Array) => recordIOFrame(r))),
  ]);

function decodeError(
  records: Uint8Array[],
  signature: ModelSignature = single,
  codec: Codec = recordIOProtobufCodec,
): SluiceError {
  try {
    decodeRecords(records, signature, codec);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  assert.fail("expected the records to be refused");
}

describe("RecordIO-protobuf decoding (Amazon Record)", () => {
  it("decodes the SageMaker SDK's own matrix_0.pbr: 100 MNIST rows of 784 floats", () => {
    const body = readFileSync(new URL("matrix_0.pbr", TESTDATA));
    const signature = signatureOf({ pixels: ["float32", 784] });
    const records = decodeBody(recordIOProtobufCodec, contextFor(signature, "application/x-recordio-protobuf"), [body]);
    assert.equal(records.length, 100);
    // Checked against an independent reader of the same bytes.
    const expected = readRecordIOFrames(body).map((payload) => readAmazonRecord(payload, "features").tensors.values);
    assert.deepEqual(
      records.map((r) => r[0]),
      expected,
    );
    assert.ok(records.every((r) => (r[0] as number[]).every((v) => v >= 0 && v <= 1)));
    assert.ok(records.every((r) => (r[0] as number[]).some((v) => v > 0)));
  });

  it("reads float32, float64 and int32 tensors, packed or not, under `values` or any single name", () => {
    const records = [
      amazonRecord({ values: { type: "float32", values: [1, 2, 3, 4] } }),
      amazonRecord({ pixels: { type: "float64", values: [0.5, 1e-300, -2, 3] } }),
      amazonRecord({ values: { type: "int32", values: [-1, 0, 7, 2 ** 24] } }),
      amazonRecord({ values: { type: "int32", values: [127, 128, 2 ** 14 - 1, 2 ** 14] } }),
      amazonRecord({ values: { type: "float32", values: [5, 6, 7, 8], unpacked: true } }),
      amazonRecord({ values: { type: "int32", values: [5, 6, 7, 300], unpacked: true } }),
      amazonRecord({ values: { type: "float64", values: [5, 6, 7, 0.5], unpacked: true } }),
    ];
    assert.deepEqual(decodeRecords(records), [
      [[1, 2, 3, 4]],
      [[0.5, 0, -2, 3]],
      [[-1, 0, 7, 2 ** 24]],
      [[127, 128, 2 ** 14 - 1, 2 ** 14]],
      [[5, 6, 7, 8]],
      [[5, 6, 7, 300]],
      [[5, 6, 7, 0.5]],
    ]);
  });

  it("reads dense float32, float64 and int32 tensors, short and long, into float32 and float64 inputs wherever the body is cut", () => {
    // The SageMaker SDK writes a NumPy float64 array (NumPy's default) as a Float64Tensor, for float32
    // models too: each value then rounds to the nearest float32, as it would through Number(). An integer
    // array becomes an Int32Tensor: varints of one to ten bytes (negative ones take ten).
    const random = seededRandom(6464);
    for (const width of [4, 200]) {
      const floats = [0, 1].map(() =>
        Array.from({ length: width }, () => (random() - 0.5) * 10 ** (random() * 40 - 20)),
      );
      floats[0][1] = Number.NaN;
      floats[1][2] = -0;
      const integers = [0, 1].map(() =>
        Array.from({ length: width }, () => Math.round((random() - 0.3) * 2 ** Math.floor(random() * 24)) | 0),
      );
      for (const tensor of ["float32", "float64", "int32"] as const) {
        const rows = tensor === "int32" ? integers : floats;
        const body = concat(rows.map((values) => recordIOFrame(amazonRecord({ values: { type: tensor, values } }))));
        const sent = tensor === "float32" ? rows.map((row) => row.map(Math.fround)) : rows;
        for (const input of ["float32", "float64"] as const) {
          checkDecoderConformance(recordIOProtobufCodec, {
            context: contextFor(signatureOf({ x: [input, width] }), recordIOProtobufCodec.mediaTypes[0]),
            body,
            expected: sent.map((row) => [input === "float32" ? row.map(Math.fround) : row]),
            refused: [],
          });
        }
      }
    }
  });

  it("feeds several inputs by name, or from `values` in model order", () => {
    const records = [
      amazonRecord({ b: { type: "float32", values: [3, 4, 5] }, a: { type: "float32", values: [1, 2] } }),
      amazonRecord({ values: { type: "float32", values: [1, 2, 3, 4, 5] }, other: "ignored" }),
    ];
    const ab = [
      [1, 2],
      [3, 4, 5],
    ];
    assert.deepEqual(decodeRecords(records, twoInputs), [ab, ab]);
  });

  it("feeds a model of one input per column from records of many features, in any order, for both formats", () => {
    // One input per column, as skl2onnx converts a pipeline over a DataFrame: more features than the
    // decoder's table first holds, with others the model does not take between them.
    const columns = Array.from({ length: 20 }, (_, k) => `c${k}`);
    const signature = signatureOf(Object.fromEntries(columns.map((name) => [name, ["float32", 1]])));
    const random = seededRandom(11);
    const rows = Array.from({ length: 5 }, (_, r) => columns.map((_, k) => r * 100 + k));
    const order = (r: number) => [...columns.keys(), -1, -2, -3].sort(() => random() - 0.5).map((k) => [k, r] as const);
    const name = (k: number) => (k < 0 ? `extra${-k}` : columns[k]);
    const recordIO = rows.map((_, r) =>
      amazonRecord(
        Object.fromEntries(
          order(r).map(([k]) => [name(k), { type: "float32" as const, values: [k < 0 ? 99 : rows[r][k]] }]),
        ),
      ),
    );
    const examples = rows.map((_, r) =>
      tfExample(Object.fromEntries(order(r).map(([k]) => [name(k), { float: [k < 0 ? 99 : rows[r][k]] }]))),
    );
    const expected = rows.map((row) => row.map((value) => [value]));
    assert.deepEqual(decodeRecords(recordIO, signature), expected);
    assert.deepEqual(decodeRecords(examples, signature, tfRecordCodec), expected);
  });

  it("scatters sparse tensors (keys + shape) into a dense row", () => {
    const records = [
      amazonRecord({ values: { type: "float32", values: [9, 7], keys: [3, 0], shape: [4] } }),
      amazonRecord({ values: { type: "float32", values: [], keys: [], shape: [4] } }),
      amazonRecord({ values: { type: "float64", values: [2.5], keys: [1] } }),
    ];
    assert.deepEqual(decodeRecords(records), [[[7, 0, 0, 9]], [[0, 0, 0, 0]], [[0, 2.5, 0, 0]]]);
  });

  it("refuses records that do not fit the model, naming the feature", () => {
    const cases: [Uint8Array, string][] = [
      [amazonRecord({ values: { type: "float32", values: [1, 2, 3] } }), "FEATURE_WIDTH_MISMATCH"],
      [amazonRecord({ values: { type: "float32", values: [1], keys: [4], shape: [4] } }), "SPARSE_KEY_OUT_OF_RANGE"],
      [amazonRecord({ values: { type: "float32", values: [1], keys: [0], shape: [5] } }), "SPARSE_SHAPE_MISMATCH"],
      [amazonRecord({ values: { type: "float32", values: [1, 2], keys: [0] } }), "SPARSE_LENGTH_MISMATCH"],
      [amazonRecord({ values: { type: "float32", values: [1], keys: [0, 2] } }), "SPARSE_LENGTH_MISMATCH"],
      // Six bytes of values for two keys: the second value is not whole.
      [Uint8Array.from(sparseFeature([0, 0, 0x80, 0x3f, 0, 0], [0, 1])), "SPARSE_LENGTH_MISMATCH"],
      [amazonRecord({ values: "raw bytes" }), "FEATURE_NOT_NUMERIC"],
      [amazonRecord({ p: { type: "float32", values: [1] }, q: { type: "float32", values: [2] } }), "FEATURE_MISSING"],
      [amazonRecord({}), "FEATURE_MISSING"],
      [Uint8Array.from([0x0a, 0x7f, 0x01]), "PROTOBUF_TRUNCATED"],
    ];
    for (const [record, code] of cases) {
      const error = decodeError([record]);
      assert.ok(error instanceof RecordError, code);
      assert.equal(error.code, code, error.message);
    }
    const width = decodeError([amazonRecord({ values: { type: "float32", values: [1, 2, 3] } })]);
    assert.match(width.message, /feature "values" has 3 value\(s\); the model takes 4 \(x\[4\]\)/);
    // A uint64 key past 2^63 is named as written, not as the signed number its bits also spell.
    const farKey = decodeError([amazonRecord({ values: { type: "float32", values: [1], keys: [2n ** 64n - 1n] } })]);
    assert.match(farKey.message, /has key 18446744073709551615;/);
    const integers = decodeError(
      [amazonRecord({ values: { type: "float32", values: [1, 2.5, 3] } })],
      signatureOf({ ids: ["int64", 3] }),
    );
    assert.equal(integers.code, "FEATURE_VALUE_NOT_INTEGER");
  });

  it("application/x-recordio reads Record payloads and refuses opaque ones with a 415 that points to plugins", () => {
    const record = amazonRecord({ values: { type: "float32", values: [1, 2, 3, 4] } });
    assert.deepEqual(decodeRecords([record], single, recordIOCodec), [[[1, 2, 3, 4]]]);
    const error = decodeError([record, new TextEncoder().encode("an image, say")], single, recordIOCodec);
    assert.equal(error.status, 415);
    assert.equal(error.code, "RECORDIO_PAYLOAD_OPAQUE");
    assert.match(error.message, /record 1 .*plugin/);
  });
});

describe("TFRecord decoding (tf.train.Example)", () => {
  it("maps float_list and int64_list features to inputs by name, or a single feature of any name", () => {
    const examples = [
      tfExample({ b: { float: [3, 4, 5] }, a: { float: [1, 2] }, label: { bytes: ["cat"] } }),
      tfExample({ values: { float: [1, 2, 3, 4, 5] } }),
    ];
    const ab = [
      [1, 2],
      [3, 4, 5],
    ];
    assert.deepEqual(decodeRecords(examples, twoInputs, tfRecordCodec), [ab, ab]);
    assert.deepEqual(decodeRecords([tfExample({ image: { float: [0.5, 1, 2, 3] } })], single, tfRecordCodec), [
      [[0.5, 1, 2, 3]],
    ]);
    const ids = signatureOf({ ids: ["int64", 3] });
    assert.deepEqual(decodeRecords([tfExample({ ids: { int64: [-3, 0, 2n ** 52n] } })], ids, tfRecordCodec), [
      [[-3, 0, 2 ** 52]],
    ]);
  });

  it("refuses bytes features, missing inputs and wrong widths", () => {
    const cases: [Uint8Array, string][] = [
      [tfExample({ x: { bytes: ["jpeg"] } }), "FEATURE_NOT_NUMERIC"],
      [tfExample({ x: { float: [1, 2] } }), "FEATURE_WIDTH_MISMATCH"],
      [tfExample({ p: { float: [1] }, q: { float: [2] } }), "FEATURE_MISSING"],
      [Uint8Array.from([0x0a, 0x05, 0x0a]), "PROTOBUF_TRUNCATED"],
    ];
    for (const [example, code] of cases) assert.equal(decodeError([example], single, tfRecordCodec).code, code);
  });
});

describe("string inputs in protobuf records (Record `bytes`, Example `bytes_list`)", () => {
  const categories = signatureOf({ cat: ["string", 1], num: ["float32", 2] });
  /** `record` with the bytes of its `~~` (a placeholder two bytes long) made `0xff 0xfe`: not UTF-8. */
  const withInvalidUtf8 = (record: Uint8Array) => {
    const at = record.findIndex((byte, i) => byte === 0x7e && record[i + 1] === 0x7e);
    assert.ok(at >= 0);
    const invalid = record.slice();
    invalid.set([0xff, 0xfe], at);
    return invalid;
  };
  const formats: [Codec, (cat: string, num: number[]) => Uint8Array][] = [
    [recordIOProtobufCodec, (cat, num) => amazonRecord({ cat, num: { type: "float32", values: num } })],
    [tfRecordCodec, (cat, num) => tfExample({ cat: { bytes: [cat] }, num: { float: num } })],
  ];

  it("reads each record's category, the same bytes again and others between, in order", () => {
    const cats = ["red", "green", "red", "ünï", "red", "", "green", "re", "redd", "red"];
    for (const [codec, record] of formats) {
      const records = cats.map((cat, i) => record(cat, [i, -i]));
      assert.deepEqual(
        decodeRecords(records, categories, codec),
        cats.map((cat, i) => [[cat], [i, -i]]),
        codec.name,
      );
    }
  });

  it("refuses a category that is not UTF-8 with INVALID_UTF8 naming the feature, after valid ones", () => {
    for (const [codec, record] of formats) {
      const records = [record("red", [1, 2]), record("red", [3, 4]), withInvalidUtf8(record("~~", [5, 6]))];
      const error = decodeError(records, categories, codec);
      assert.equal(error.code, "INVALID_UTF8", codec.name);
      assert.match(error.message, /feature "cat" holds bytes that are not valid UTF-8 text/, codec.name);
    }
  });
});

describe("binary output", () => {
  const spec = (name: string, type: TensorSpec["type"], width: number): TensorSpec => ({
    name,
    type,
    recordShape: [width],
    width,
  });
  const encode = (codec: Codec, batch: OutputBatch) => {
    const encoder = codec.output?.createEncoder(contextFor(single, codec.mediaTypes[0]));
    assert.ok(encoder);
    return concat(
      [encoder.begin(), encoder.encode(batch), encoder.end({ records: batch.rows })].map((c) =>
        typeof c === "string" ? new TextEncoder().encode(c) : c,
      ),
    );
  };
  const oneOutput: OutputBatch = {
    rows: 2,
    firstRecordIndex: 0,
    outputs: [{ spec: spec("probabilities", "float32", 2), width: 2, data: Float32Array.from([0.25, 0.75, 1, 0]) }],
    recordErrors: new Map([[1, new RecordError("FEATURE_MISSING", "no feature")]]),
  };
  const twoOutputs: OutputBatch = {
    rows: 1,
    firstRecordIndex: 0,
    outputs: [
      { spec: spec("doubled", "float32", 2), width: 2, data: Float32Array.from([2, 4]) },
      { spec: spec("ids_out", "int64", 2), width: 2, data: BigInt64Array.from([-1n, 2n ** 40n]) },
    ],
    recordErrors: new Map(),
  };

  it("writes one RecordIO Record per record, outputs in `label` (`score` for a single output)", () => {
    const records = readRecordIOFrames(encode(recordIOProtobufCodec, oneOutput)).map((p) => readAmazonRecord(p));
    assert.deepEqual(records[0].tensors, { score: [0.25, 0.75] });
    assert.deepEqual(JSON.parse(records[1].metadata ?? ""), { error: "no feature", code: "FEATURE_MISSING" });
    const [named] = readRecordIOFrames(encode(recordIOProtobufCodec, twoOutputs)).map((p) => readAmazonRecord(p));
    assert.deepEqual(named.tensors, { doubled: [2, 4], ids_out: [-1, 2 ** 40] });
  });

  it("writes one TFRecord Example per record, each output a feature named after it", () => {
    const examples = readTfRecordFrames(encode(tfRecordCodec, oneOutput)).map(readTfExample);
    assert.deepEqual(examples[0], { probabilities: [0.25, 0.75] });
    assert.deepEqual(JSON.parse((examples[1].error as string[])[0]), { error: "no feature", code: "FEATURE_MISSING" });
    const [named] = readTfRecordFrames(encode(tfRecordCodec, twoOutputs)).map(readTfExample);
    assert.deepEqual(named, { doubled: [2, 4], ids_out: [-1, 2 ** 40] });
    // int64 outputs are written as int64_list (field 3), floats as float_list (field 2).
    const [frame] = readTfRecordFrames(encode(tfRecordCodec, twoOutputs));
    assert.ok(parseWire(frame).length === 1);
  });

  it("writes any other mix of outputs through protobufjs: strings beside int64, float64 and int32 outputs", () => {
    // skl2onnx's classifiers with string classes answer a string label: no layout made by hand takes it.
    const mixed: OutputBatch = {
      rows: 2,
      firstRecordIndex: 0,
      outputs: [
        { spec: spec("label", "string", 1), width: 1, data: ["cat", "dög"] },
        { spec: spec("count", "int64", 1), width: 1, data: BigInt64Array.from([-3n, 2n ** 40n]) },
        { spec: spec("mean", "float64", 1), width: 1, data: Float64Array.from([0.1, -2.5]) },
        { spec: spec("votes", "int32", 2), width: 2, data: Int32Array.from([1, -2, 3, 4]) },
      ],
      recordErrors: new Map(),
    };
    const records = readRecordIOFrames(encode(recordIOProtobufCodec, mixed)).map((p) => readAmazonRecord(p));
    assert.deepEqual(
      records.map((record) => [record.texts, record.tensors]),
      [
        [{ label: ["cat"] }, { count: [-3], mean: [0.1], votes: [1, -2] }],
        [{ label: ["dög"] }, { count: [2 ** 40], mean: [-2.5], votes: [3, 4] }],
      ],
    );
    // TFRecord's float_list holds float32s.
    const examples = readTfRecordFrames(encode(tfRecordCodec, mixed)).map(readTfExample);
    assert.deepEqual(examples, [
      { label: ["cat"], count: [-3], mean: [Math.fround(0.1)], votes: [1, -2] },
      { label: ["dög"], count: [2 ** 40], mean: [-2.5], votes: [3, 4] },
    ]);
  });

  /** A scikit-learn classifier's outputs: an int64 label per record, then two probabilities. */
  const labelAndProbabilities = (labels: readonly bigint[]): OutputBatch["outputs"] => [
    { spec: spec("label", "int64", 1), width: 1, data: BigInt64Array.from(labels) },
    {
      spec: spec("probabilities", "float32", 2),
      width: 2,
      data: Float32Array.from({ length: 2 * labels.length }, (_, i) => i / 7),
    },
  ];

  it("writes int64 outputs (a classifier's label) as float64 tensors by hand, byte for byte as protobufjs", () => {
    const extremes = [0n, -1n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 3n, 123456789n];
    const rows = extremes.length;
    const batch: OutputBatch = {
      rows,
      firstRecordIndex: 0,
      outputs: [
        ...labelAndProbabilities(extremes),
        {
          spec: spec("counts", "int64", 1),
          width: 1,
          data: BigUint64Array.from(extremes, (v) => BigInt.asUintN(64, v)),
        },
      ],
      recordErrors: new Map([[2, new RecordError("FEATURE_MISSING", "no feature")]]),
    };
    const expected = Array.from({ length: rows }, (_, row) => {
      if (row === 2)
        return encodeRecordIOFrame(
          AmazonRecord.encode({ metadata: '{"error":"no feature","code":"FEATURE_MISSING"}' }).finish(),
        );
      const [label, probabilities, counts] = batch.outputs;
      const values = (output: (typeof batch.outputs)[number]) =>
        (output.data as BigInt64Array | BigUint64Array | Float32Array).subarray(
          row * output.width,
          (row + 1) * output.width,
        );
      return encodeRecordIOFrame(
        AmazonRecord.encode({
          label: {
            label: { float64_tensor: { values: Array.from(values(label), Number) } },
            probabilities: { float32_tensor: { values: values(probabilities) } },
            counts: { float64_tensor: { values: Array.from(values(counts), Number) } },
          },
        }).finish(),
      );
    });
    assert.deepEqual(encode(recordIOProtobufCodec, batch), concat(expected));
  });

  it("writes integer outputs as int64_list varints by hand in TFRecord, byte for byte as protobufjs", () => {
    const extremes = [0n, -1n, 1n, 127n, 128n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 300n, -129n];
    const rows = extremes.length;
    const small = (make: (length: number) => Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array) => {
      const values = make(rows);
      for (let i = 0; i < rows; i++) values[i] = Number(extremes[i] % 100n) * (i % 3 === 0 ? -1 : 1) + i * 13;
      return values;
    };
    const outputs: OutputBatch["outputs"] = [
      ...labelAndProbabilities(extremes),
      {
        spec: spec("i32", "int32", 2),
        width: 2,
        data: Int32Array.from({ length: 2 * rows }, (_, i) => (i - 9) * 2 ** 24),
      },
      { spec: spec("i16", "int16", 1), width: 1, data: small((n) => new Int16Array(n)) },
      { spec: spec("i8", "int8", 1), width: 1, data: small((n) => new Int8Array(n)) },
      { spec: spec("u8", "uint8", 1), width: 1, data: small((n) => new Uint8Array(n)) },
      { spec: spec("u16", "uint16", 1), width: 1, data: small((n) => new Uint16Array(n)) },
      { spec: spec("none", "int64", 0), width: 0, data: new BigInt64Array(0) },
    ];
    const batch: OutputBatch = {
      rows,
      firstRecordIndex: 0,
      outputs,
      recordErrors: new Map([[4, new RecordError("FEATURE_MISSING", "no feature")]]),
    };
    const expected = Array.from({ length: rows }, (_, row) => {
      if (row === 4) {
        const error = {
          bytes_list: { value: [new TextEncoder().encode('{"error":"no feature","code":"FEATURE_MISSING"}')] },
        };
        return encodeTfRecordFrame(TfExample.encode({ features: { feature: { error } } }).finish());
      }
      const feature = Object.fromEntries(
        outputs.map((output) => {
          const values = (output.data as Exclude<OutputValues, readonly string[]>).subarray(
            row * output.width,
            (row + 1) * output.width,
          );
          if (values instanceof Float32Array) return [output.spec.name, { float_list: { value: values } }];
          const asStrings = Array.from(values as ArrayLike<number | bigint>, (value) => value.toString());
          return [output.spec.name, { int64_list: { value: asStrings } }];
        }),
      );
      return encodeTfRecordFrame(TfExample.encode({ features: { feature } }).finish());
    });
    assert.deepEqual(encode(tfRecordCodec, batch), concat(expected));
  });

  it("writes float outputs by hand byte for byte as protobufjs does, failed records included", () => {
    const random = seededRandom(5);
    const rows = 40;
    const floats = (length: number) => Float32Array.from({ length }, () => (random() - 0.5) * 10 ** (random() * 8 - 4));
    const first = floats(rows * 3);
    first.set([Number.NaN, -0, Number.POSITIVE_INFINITY]);
    const shaped: TensorSpec = { name: "grid", type: "float64", recordShape: [2, 2], width: 4 };
    const batches: OutputBatch[] = [
      {
        rows,
        firstRecordIndex: 0,
        outputs: [{ spec: spec("p", "float32", 3), width: 3, data: first }],
        recordErrors: new Map(),
      },
      {
        rows,
        firstRecordIndex: rows,
        outputs: [
          { spec: spec("score", "float32", 1), width: 1, data: floats(rows) },
          { spec: shaped, width: 4, data: Float64Array.from(floats(rows * 4), (v) => v / 3) },
          { spec: spec("none", "float32", 0), width: 0, data: new Float32Array(0) },
        ],
        recordErrors: new Map([
          [0, new RecordError("FEATURE_MISSING", "no feature")],
          [7, new RecordError("FEATURE_MISSING", "no feature")],
        ]),
      },
    ];
    const errorJson = (row: number, batch: OutputBatch) => {
      const error = batch.recordErrors.get(row);
      return error && JSON.stringify({ error: error.message, code: error.code });
    };
    const rowOf = (output: OutputBatch["outputs"][number], row: number) =>
      (output.data as Float32Array | Float64Array).subarray(row * output.width, (row + 1) * output.width);
    for (const batch of batches) {
      const keys = batch.outputs.length === 1 ? ["score"] : batch.outputs.map((output) => output.spec.name);
      const amazon = Array.from({ length: batch.rows }, (_, row) => {
        const error = errorJson(row, batch);
        const label = Object.fromEntries(
          batch.outputs.map((output, o) => {
            const values = rowOf(output, row);
            const shape = output.spec.recordShape.length > 1 ? output.spec.recordShape : undefined;
            const tensor = values instanceof Float64Array ? "float64_tensor" : "float32_tensor";
            return [keys[o], { [tensor]: { values, shape } }];
          }),
        );
        return encodeRecordIOFrame(AmazonRecord.encode(error ? { metadata: error } : { label }).finish());
      });
      assert.deepEqual(encode(recordIOProtobufCodec, batch), concat(amazon));
      const examples = Array.from({ length: batch.rows }, (_, row) => {
        const error = errorJson(row, batch);
        const feature = error
          ? { error: { bytes_list: { value: [new TextEncoder().encode(error)] } } }
          : Object.fromEntries(
              batch.outputs.map((output) => [output.spec.name, { float_list: { value: rowOf(output, row) } }]),
            );
        return encodeTfRecordFrame(TfExample.encode({ features: { feature } }).finish());
      });
      assert.deepEqual(encode(tfRecordCodec, batch), concat(examples));
    }
  });
});
