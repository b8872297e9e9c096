/**
 * Sluice's typed errors: an error about the client's data carries no stack (it can come once per record,
 * and capturing one cost more than decoding the record); Sluice's own failures keep theirs for the log.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FramingError, ModelExecutionError, RecordError, SluiceError } from "../src/errors.js";

const frames = (error: Error) => (error.stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at "));

describe("typed errors", () => {
  it("a record's error has no stack, and is otherwise whole", () => {
    const limit = Error.stackTraceLimit;
    for (const error of [
      new RecordError("CSV_FIELD_NOT_NUMERIC", 'field 0 "x" is not a number', { recordIndex: 3, line: 4 }),
      new FramingError("RECORDIO_BAD_MAGIC", "not a RecordIO frame", { byteOffset: 8 }),
    ]) {
      assert.deepEqual(frames(error), [], error.name);
      assert.ok(error instanceof RecordError && error instanceof SluiceError);
      assert.equal(error.status, 400);
      assert.match(error.stack ?? "", new RegExp(`^${error.name}: ${error.message}`));
    }
    assert.equal(Error.stackTraceLimit, limit, "the process's own stack limit is left as it was");
    assert.ok(frames(new Error("plain")).length > 0, "other errors still record their stacks");
  });

  it("Sluice's own failure keeps its stack, for the log", () => {
    const error = new ModelExecutionError("the model failed", 0, 10);
    assert.ok(frames(error).length > 0);
    assert.match(frames(error)[0], /errors\.test\.js/);
  });
});
