import assert from "node:assert/strict";
import { test } from "node:test";
import { copyBytes } from "../src/index.js";

const filled = (length: number, shared: boolean) => {
  const bytes = new Uint8Array(shared ? new SharedArrayBuffer(length) : new ArrayBuffer(length));
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
  return bytes;
};

test("copies to and from shared memory at every alignment and across the realigning buffer's size", () => {
  for (const [sourceShared, targetShared] of [
    [true, false],
    [false, true],
    [false, false],
  ]) {
    for (const length of [0, 1, 7, 9, 4096, 65536 + 13, 200_003]) {
      for (let sourceOffset = 0; sourceOffset < 9; sourceOffset += 4) {
        for (let targetOffset = 0; targetOffset < 9; targetOffset++) {
          const source = filled(length + 16, sourceShared).subarray(sourceOffset, sourceOffset + length);
          const target = new Uint8Array(
            targetShared ? new SharedArrayBuffer(length + 32) : new ArrayBuffer(length + 32),
          );
          const view = target.subarray(3);
          copyBytes(view, targetOffset, source);
          const label = `source ${sourceShared ? "shared" : "plain"}+${sourceOffset}, target ${targetShared ? "shared" : "plain"}+${targetOffset}, ${length} bytes`;
          assert.deepEqual(view.subarray(targetOffset, targetOffset + length), new Uint8Array(source), label);
          assert.ok(
            view.subarray(0, targetOffset).every((byte) => byte === 0),
            `${label}: nothing before`,
          );
          assert.ok(
            view.subarray(targetOffset + length).every((byte) => byte === 0),
            `${label}: nothing after`,
          );
        }
      }
    }
  }
});
