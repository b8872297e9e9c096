/**
 * DataProcessing as `sluice transform` applies it around each record (the platform's InputFilter,
 * JoinSource and OutputFilter): CSV quoting kept through a filter and a join, and every way a record or a
 * setting can fail it, each a clear error.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../src/errors.js";
import { csvFields, csvLine, DataProcessing, DataProcessingError, splitAnswer } from "../src/job/data-processing.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);
const settings = (inputFilter = "$", joinSource: "None" | "Input" = "None", outputFilter = "$") => ({
  inputFilter,
  outputFilter,
  joinSource,
});

describe("DataProcessing in sluice transform", () => {
  it("reads and writes CSV fields with RFC 4180 quoting: commas, doubled quotes, line breaks, empty fields", () => {
    const row = '"a ""b"", c",,1.5,"x\ny",plain';
    const fields = csvFields(row);
    assert.deepEqual(fields, ['a "b", c', "", "1.5", "x\ny", "plain"]);
    assert.equal(csvLine(fields), row);
    assert.equal(csvLine([1.5, "two", null, true]), "1.5,two,null,true");
  });

  it("filters a quoted CSV row and joins the answer to the whole row, quotes and all", () => {
    const processing = new DataProcessing(settings("$[1:]", "Input", "$[0,3:]"), "text/csv", "text/csv");
    const input = bytes('"id, 1",0.25,0.5');
    assert.equal(text(processing.modelInput(input)), "0.25,0.5");
    assert.equal(text(processing.outputRecord(input, bytes("0.9,0.1"))), '"id, 1",0.9,0.1');
  });

  it("joins JSON answers under SageMakerOutput, beside an object's keys or around any other value", () => {
    const processing = new DataProcessing(settings("$.x", "Input"), "application/jsonlines", "application/json");
    assert.equal(text(processing.modelInput(bytes('{"id":3,"x":[1,2]}'))), "[1,2]");
    assert.equal(
      text(processing.outputRecord(bytes('{"id":3,"x":[1,2]}'), bytes("[0.5]"))),
      '{"id":3,"x":[1,2],"SageMakerOutput":[0.5]}',
    );
    assert.equal(
      text(processing.outputRecord(bytes("[1,2]"), bytes("[0.5]"))),
      '{"SageMakerInput":[1,2],"SageMakerOutput":[0.5]}',
    );
  });

  it("fails a record it cannot take apart, saying why", () => {
    const csv = new DataProcessing(settings("$[9]"), "text/csv", "text/csv");
    assert.throws(
      () => csv.modelInput(bytes("1,2,3,4")),
      (error: unknown) =>
        error instanceof DataProcessingError &&
        /^--input-filter \$\[9\]: index 9 is beyond the record's 4 item\(s\)$/.test(error.message),
    );
    const json = new DataProcessing(settings("$[0]"), "application/jsonlines", "application/jsonlines");
    assert.throws(() => json.modelInput(bytes("{not json")), /a record to filter or join is not valid JSON/);
    assert.throws(
      () => json.modelInput(Uint8Array.of(0x5b, 0xff, 0x5d)),
      /a record to filter or join is not valid UTF-8/,
    );
    // JSON.parse reads any depth; JSON.stringify recurses and cannot write this one back.
    const deep = `[${"[".repeat(200_000)}1${"]".repeat(200_000)}]`;
    assert.throws(
      () => json.modelInput(bytes(deep)),
      (error: unknown) => error instanceof DataProcessingError && /cannot be written as JSON/.test(error.message),
    );
  });

  it("refuses settings the platform refuses, before any record is read", () => {
    assert.throws(
      () => new DataProcessing(settings("$[1:]"), "application/x-recordio-protobuf", "text/csv"),
      (error: unknown) =>
        error instanceof ConfigError &&
        /needs CSV, JSON or JSON Lines in and out; this job reads application\/x-recordio-protobuf/.test(error.message),
    );
    assert.throws(
      () => new DataProcessing(settings("$", "Input"), "application/json", "text/csv"),
      /cannot join JSON input with CSV output/,
    );
    assert.throws(
      () => new DataProcessing(settings(`$[${"0,".repeat(40)}0]`), "text/csv", "text/csv"),
      /63 characters/,
    );
    // `$` everywhere is no DataProcessing at all, for any format.
    const none = new DataProcessing(settings(), "application/x-recordio-protobuf", "application/x-recordio-protobuf");
    assert.equal(none.active, false);
    assert.equal(none.filtersInput, false);
  });

  it("splits an answer into one record per record sent, and fails one that holds another count", () => {
    const json = splitAnswer(bytes('{"predictions":[[0.1,0.2],{"label":1}]}'), "application/json", 2);
    assert.deepEqual(json.map(text), ["[0.1,0.2]", '{"label":1}']);
    const lines = splitAnswer(bytes("0.1,0.2\n\n0.3,0.4\n"), "text/csv", 3);
    assert.deepEqual(lines.map(text), ["0.1,0.2", "", "0.3,0.4"]);
    assert.throws(
      () => splitAnswer(bytes("0.1\n0.2\n"), "text/csv", 3),
      (error: unknown) =>
        error instanceof DataProcessingError && error.message === "the answer holds 2 record(s) for 3 sent",
    );
    assert.throws(() => splitAnswer(bytes('{"predictions":[]}'), "application/json", 1), /holds 0 record\(s\) for 1/);
  });
});
