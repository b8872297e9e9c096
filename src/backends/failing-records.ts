/**
 * Finding the records a model fails on. When a run fails, its rows are run again in halves, then halves
 * of the halves that fail, down to single rows: either to name the first record the model fails on
 * alone, or to answer every other record around the ones it fails on (the placeholder policy). Only
 * on the failure path, at a few times the batch's work.
 */
import type { OutputTensor } from "../codec/record-codec.js";
import type { OutputValues } from "../model/signature.js";

/** Runs rows `[firstRow, firstRow + rows)` of the batch; rejects when the model fails on them. */
export type RowRunner = (firstRow: number, rows: number) => Promise<OutputTensor[]>;

/** What the halving visits: the parts that ran, the single rows that failed; `done` ends the search. */
interface Visitor {
  ran(firstRow: number, outputs: OutputTensor[]): void;
  failed(row: number, cause: unknown): void;
  readonly done: boolean;
}

async function halve(
  firstRow: number,
  rows: number,
  run: RowRunner,
  visitor: Visitor,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (rows === 0 || visitor.done || signal?.aborted) return;
  try {
    visitor.ran(firstRow, await run(firstRow, rows));
    return;
  } catch (cause) {
    if (rows === 1) {
      visitor.failed(firstRow, cause);
      return;
    }
  }
  const half = rows >> 1;
  await halve(firstRow, half, run, visitor, signal);
  await halve(firstRow + half, rows - half, run, visitor, signal);
}

/** Runs the halves of a batch of `rows` that failed whole. */
function halveFailedBatch(rows: number, run: RowRunner, visitor: Visitor, signal?: AbortSignal): Promise<void> {
  const half = rows >> 1;
  return halve(0, half, run, visitor, signal).then(() => halve(half, rows - half, run, visitor, signal));
}

/** A row the model fails on alone, and its error. */
export interface FailingRow {
  readonly row: number;
  readonly cause: unknown;
}

/**
 * The first of `rows` rows (a batch that failed whole) that the model fails on alone. Undefined when
 * every part runs (the batch failed only as a whole), or when no part runs either: a failure that does
 * not depend on the records, such as a lost device, is no record's fault.
 */
export async function firstFailingRow(
  rows: number,
  run: RowRunner,
  signal?: AbortSignal,
): Promise<FailingRow | undefined> {
  let somePartRan = false;
  let failing: FailingRow | undefined;
  await halveFailedBatch(
    rows,
    run,
    {
      ran: () => {
        somePartRan = true;
      },
      failed: (row, cause) => {
        failing = { row, cause };
      },
      get done() {
        return failing !== undefined;
      },
    },
    signal,
  );
  return somePartRan ? failing : undefined;
}

/** A batch answered around the rows the model fails on. */
export interface AnsweredAround {
  /** One tensor per output, `rows` records each; the failed rows' values are zeros (or empty strings). */
  readonly outputs: OutputTensor[];
  /** The rows the model fails on alone, and why. */
  readonly failedRows: ReadonlyMap<number, string>;
}

function emptyLike(data: OutputValues, length: number): OutputValues {
  if (Array.isArray(data)) return new Array<string>(length).fill("");
  const TypedArray = data.constructor as new (length: number) => Exclude<OutputValues, readonly string[]>;
  return new TypedArray(length);
}

function copyRows(from: OutputValues, to: OutputValues, offset: number): void {
  if (Array.isArray(to)) {
    for (let i = 0; i < from.length; i++) to[offset + i] = (from as readonly string[])[i];
  } else {
    (to as Float32Array).set(from as Float32Array, offset);
  }
}

/**
 * Answers every row of a batch of `rows` (that failed whole) that the model answers in some part of it,
 * with the rows it fails on alone left empty and listed. Undefined when no part runs (see
 * {@link firstFailingRow}). Rejects with the abort reason if `signal` aborts before it is done.
 */
export async function answerAroundFailures(
  rows: number,
  run: RowRunner,
  signal?: AbortSignal,
): Promise<AnsweredAround | undefined> {
  let outputs: OutputTensor[] | undefined;
  const failedRows = new Map<number, string>();
  await halveFailedBatch(
    rows,
    run,
    {
      ran: (firstRow, part) => {
        outputs ??= part.map((tensor) => ({ ...tensor, data: emptyLike(tensor.data, rows * tensor.width) }));
        part.forEach((tensor, i) => {
          copyRows(tensor.data, (outputs as OutputTensor[])[i].data, firstRow * tensor.width);
        });
      },
      failed: (row, cause) => {
        failedRows.set(row, cause instanceof Error ? cause.message : String(cause));
      },
      done: false,
    },
    signal,
  );
  signal?.throwIfAborted();
  return outputs === undefined ? undefined : { outputs, failedRows };
}
