/**
 * V8's on-stack replacement (OSR) compiles a loop that is running in unoptimised code and jumps into it
 * mid-call. Node 20's V8 keeps that code, and while it is kept never compiles the whole function again.
 * A codec's per-record function has a short loop (a record's fields): when its optimised code was dropped
 * (a branch it had never seen, such as CSV's first row to straddle two chunks) while an OSR compilation of it
 * was under way, every later call started unoptimised and jumped into the loop's code. About one process
 * in ten then decoded CSV, JSON or JSON Lines at half speed for the rest of its life. Without OSR, V8
 * compiles such a function whole again on a later call; Sluice's long loops (a chunk's records, a batch's
 * rows) are in functions called for every chunk or batch, so they lose nothing.
 */
import v8 from "node:v8";

let turnedOff = false;

/** Turns OSR off for the whole process (V8's flags are per process), threads started later included. */
export function turnOffOnStackReplacement(): void {
  if (turnedOff) return;
  v8.setFlagsFromString("--no-use-osr");
  turnedOff = true;
}
