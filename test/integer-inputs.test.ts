/**
 * Integer inputs narrower than a double: a value outside the input's type is refused, naming the record,
 * in every format. A typed array would store it wrapped around (300 in an `Int8Array` is 44, -1 in a
 * `Uint16Array` 65 535), and the model would answer for another number.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { amazonRecord, recordIOFrame, tfExample, tfRecordFrame } from "./support/binary-writers.js";
import { int64Model, modelDir, narrowIntegerModel, unsignedModel } from "./support/models.js";
import { invoke, startTestServer, type TestServer } from "./support/server.js";

interface Refusal {
  readonly code: string;
  readonly error: string;
  readonly recordIndex: number;
}

describe("integer inputs", () => {
  let narrow: TestServer;
  let wide: TestServer;
  let unsigned: TestServer;
  before(async () => {
    narrow = await startTestServer(modelDir(narrowIntegerModel()));
    wide = await startTestServer(modelDir(int64Model()));
    unsigned = await startTestServer(modelDir(unsignedModel()));
  });
  after(async () => {
    await narrow.close();
    await wide.close();
    await unsigned.close();
  });

  const refusal = async (server: TestServer, body: string | Uint8Array, contentType: string) => {
    const response = await invoke(server, body, { "content-type": contentType, accept: "text/csv" });
    assert.equal(response.status, 400, `${contentType}: ${String(body).slice(0, 40)}`);
    return (await response.json()) as Refusal;
  };

  it("reads every value a type holds, up to its bounds", async () => {
    const body = "-128,127,65535,1\n0,-1,0,0\n";
    const response = await invoke(narrow, body, { "content-type": "text/csv", accept: "text/csv" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "-128,127,65535,1\n0,-1,0,0\n");
  });

  it("refuses a value past its input's type in CSV, fast path or not, naming the record and the type", async () => {
    const cases: [string, string][] = [
      ["300,0,0,0", 'field 0 "300" is not an int8 (-128 to 127)'],
      ["0,-129,0,0", 'field 1 "-129" is not an int8 (-128 to 127)'],
      ["0,0,-1,0", 'field 2 "-1" is not a uint16 (0 to 65535)'],
      ["0,0,65536,0", 'field 2 "65536" is not a uint16 (0 to 65535)'],
      ["0,0,0,2", 'field 3 "2" is not a bool (0 or 1)'],
      ['0,0,"70000",0', 'field 2 "\\"70000\\"" is not a uint16 (0 to 65535)'],
      ["1.5,0,0,0", 'field 0 "1.5" is not an int8 (-128 to 127)'],
    ];
    for (const [row, message] of cases) {
      const answer = await refusal(narrow, `0,0,0,0\n${row}\n`, "text/csv");
      assert.equal(answer.error, message);
      assert.equal(answer.recordIndex, 1);
    }
  });

  it("refuses it in JSON and JSON Lines, with or without spaces", async () => {
    for (const record of ["[300,0,0,0]", "[300, 0, 0, 0]", '{"small": [300, 0], "wide": [0], "flag": [false]}']) {
      for (const [type, body] of [
        ["application/json", `[[0,0,0,0], ${record}]`],
        ["application/jsonlines", `[0,0,0,0]\n${record}\n`],
      ]) {
        const answer = await refusal(narrow, body, type);
        assert.equal(answer.code, "JSON_VALUE_OUT_OF_RANGE", `${type} ${record}`);
        assert.match(answer.error, /\(300\) is not an int8 \(-128 to 127\), as "small" takes/);
        assert.equal(answer.recordIndex, 1);
      }
    }
  });

  it("refuses it in RecordIO-protobuf and TFRecord", async () => {
    const record = amazonRecord({ values: { type: "int32", values: [0, 0, 70000, 0] } });
    const fromRecord = await refusal(narrow, recordIOFrame(record), "application/x-recordio-protobuf");
    assert.equal(fromRecord.code, "FEATURE_VALUE_OUT_OF_RANGE");
    assert.match(fromRecord.error, /holds 70000, not a uint16 \(0 to 65535\), as "wide" takes/);
    const example = tfExample({ values: { int64: [0, 0, 0, 3] } });
    const fromExample = await refusal(narrow, tfRecordFrame(example), "application/x-tfrecord");
    assert.equal(fromExample.code, "FEATURE_VALUE_OUT_OF_RANGE");
    assert.match(fromExample.error, /holds 3, not a bool \(0 or 1\)/);
  });

  it("takes an int64 up to 2^63 (exact to 2^53) and refuses one past it", async () => {
    const response = await invoke(wide, `${2 ** 53},-5,${2 ** 62}\n`, {
      "content-type": "text/csv",
      accept: "text/csv",
    });
    assert.equal(response.status, 200);
    // `ids_out` is ids + 1, in int64 on the model's side: exact.
    assert.match(await response.text(), new RegExp(`,${2n ** 53n + 1n},-4,${2n ** 62n + 1n}\\n$`));
    const answer = await refusal(wide, "1,2,1e19\n", "text/csv");
    assert.equal(answer.error, 'field 2 "1e19" is not an int64');
  });

  describe("unsigned 32- and 64-bit inputs and outputs", () => {
    // The largest uint32; 2^63, past every int64; the largest double below 2^64.
    const bounds = `${2 ** 32 - 1},0,${2n ** 63n},${2n ** 64n - 2048n}`;
    // `small_plus_big` is small + big in uint64 on the model's side.
    const sums = `${2n ** 63n + 2n ** 32n - 1n},${2n ** 64n - 2048n}`;

    it("reads every value up to the bounds in each input format and answers them exactly", async () => {
      const bodies: [string, string][] = [
        ["text/csv", `1,2,3,4\n${bounds}\n`],
        ["application/jsonlines", `[1,2,3,4]\n[${bounds}]\n`],
        ["application/json", `{"instances": [{"small": [1, 2], "big": [3, 4]}, [${bounds}]]}`],
      ];
      for (const [contentType, body] of bodies) {
        const response = await invoke(unsigned, body, { "content-type": contentType, accept: "text/csv" });
        assert.equal(response.status, 200, contentType);
        assert.equal(await response.text(), `1,2,3,4,4,6\n${bounds},${sums}\n`, contentType);
      }
      const record = amazonRecord({ values: { type: "float64", values: [7, 2 ** 32 - 1, 2 ** 53, 2 ** 63] } });
      const response = await invoke(unsigned, recordIOFrame(record), {
        "content-type": "application/x-recordio-protobuf",
        accept: "text/csv",
      });
      assert.equal(response.status, 200);
      assert.equal(
        await response.text(),
        `7,${2 ** 32 - 1},${2 ** 53},${2n ** 63n},${2n ** 53n + 7n},${2n ** 63n + 2n ** 32n - 1n}\n`,
      );
    });

    it("answers them as JSON numbers, never wrapped around or as float32s", async () => {
      const response = await invoke(unsigned, `${bounds}\n`, {
        "content-type": "text/csv",
        accept: "application/jsonlines",
      });
      assert.equal(response.status, 200);
      assert.equal(
        await response.text(),
        `{"small_out":[${2 ** 32 - 1},0],"big_out":[${2n ** 63n},${2n ** 64n - 2048n}],"small_plus_big":[${sums}]}\n`,
      );
    });

    it("refuses a value past either type, naming the record and the type", async () => {
      const cases: [string, string][] = [
        ["-1,0,0,0", 'field 0 "-1" is not a uint32 (0 to 4294967295)'],
        [`${2 ** 32},0,0,0`, `field 0 "${2 ** 32}" is not a uint32 (0 to 4294967295)`],
        ["0.5,0,0,0", 'field 0 "0.5" is not a uint32 (0 to 4294967295)'],
        ["0,0,-1,0", 'field 2 "-1" is not a uint64'],
        ["0,0,1.5,0", 'field 2 "1.5" is not a uint64'],
        [`0,0,${2n ** 64n - 1n},0`, `field 2 "${2n ** 64n - 1n}" is not a uint64`],
      ];
      for (const [row, message] of cases) {
        const answer = await refusal(unsigned, `1,2,3,4\n${row}\n`, "text/csv");
        assert.equal(answer.error, message);
        assert.equal(answer.recordIndex, 1);
      }
      const json = await refusal(unsigned, '[1,2,3,4]\n{"small": [1, 2], "big": [-3, 4]}\n', "application/jsonlines");
      assert.equal(json.code, "JSON_VALUE_OUT_OF_RANGE");
      assert.match(json.error, /\(-3\) is not a uint64, as "big" takes/);
      assert.equal(json.recordIndex, 1);
      const example = tfExample({ small: { int64: [1, 2] }, big: { int64: [-1n, 0] } });
      const fromExample = await refusal(unsigned, tfRecordFrame(example), "application/x-tfrecord");
      assert.equal(fromExample.code, "FEATURE_VALUE_OUT_OF_RANGE");
      assert.match(fromExample.error, /holds -1, not a uint64/);
    });
  });
});
