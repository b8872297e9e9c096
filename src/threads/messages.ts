/**
 * The messages that cross threads. The main thread speaks HTTP and admits invocations; codec threads
 * run each invocation's framing, decoding, batching and encoding; one inference thread holds the model
 * and runs batches. Bytes and typed arrays are transferred, never shared.
 */
import type { MessagePort } from "node:worker_threads";
import type { BackendTuning } from "../backends/backend.js";
import type { ModelFile } from "../backends/onnx-model-session.js";
import type { BackendChoice } from "../backends/select-backend.js";
import type { MediaType } from "../codec/media-type.js";
import type { ContentCoding } from "../content-encoding.js";
import type { ExecutionParameters } from "../execution-parameters.js";
import type { LogFields, LogLevel } from "../log.js";
import type { InvocationOutcome } from "../metrics.js";
import type { InputArray, ModelSignature, NumericArray, OutputValues } from "../model/signature.js";
import type { RecordErrorPolicy, RecordFailure, StageTimes } from "../pipeline.js";
import type { SessionBudget } from "./model-sessions.js";

/** An error on its way to another thread: everything the HTTP answer and the log need. */
export interface WireError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
  /** The stack of an unexpected error (a bug, not a refusal), for the server log only. */
  readonly stack?: string;
}

/** Counters of one invocation, as last reported by its codec thread. */
export interface StatsSnapshot {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly records: number;
  readonly failedRecords: number;
  /** The first record answered with a placeholder, if any; sent with the final report only. */
  readonly firstFailure?: RecordFailure;
  readonly batches: number;
  /** Milliseconds spent in each stage so far. */
  readonly stageMs: Readonly<Partial<StageTimes>>;
  /** Records in each batch answered; sent with the final report only. */
  readonly batchRows?: readonly number[];
  /** The body's line feeds, when its framer counts them; sent with the final report only. */
  readonly lineFeeds?: number;
}

/** A log line written by another thread, for the main thread's logger. */
export interface LogMessage {
  readonly type: "log";
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

/** What a codec thread needs to run one invocation (the codecs were negotiated by the main thread). */
export interface InvocationJob {
  /** Content codings to undo, in order, before framing. */
  readonly contentCodings: readonly ContentCoding[];
  readonly maxDecompressionRatio: number;
  readonly input: MediaType;
  readonly output: MediaType;
  readonly batchRows: number;
  readonly maxBodyBytes: number | undefined;
  readonly recordErrorPolicy: RecordErrorPolicy;
  readonly singleRecord: boolean;
}

/**
 * What a codec thread that accepts connections needs to serve them as the main thread would: the
 * service's state, and (once the model is loaded) the settings every invocation takes.
 */
export interface FrontState {
  readonly executionParameters: ExecutionParameters;
  readonly model:
    | { readonly status: "loading" }
    | { readonly status: "failed"; readonly reason: string }
    | { readonly status: "ready"; readonly settings: FrontSettings };
}

/** The settings of every invocation, as the main thread's service applies them. */
export interface FrontSettings {
  /** The model's signature as codecs see it (inputs renamed by `sluice.json`). */
  readonly signature: ModelSignature;
  /** The answers' media type when a request does not say (the environment's, else `sluice.json`'s). */
  readonly defaultAccept: string | undefined;
  readonly maxPayloadBytes: number | undefined;
  readonly batchRows: number;
  readonly recordErrorPolicy: RecordErrorPolicy;
  readonly singleRecord: boolean;
  readonly bodyIdleTimeoutMs: number;
  readonly maxDecompressionRatio: number;
  /** `SLUICE_PART_BYTES`: the size a large body's parts are cut at (0: never cut). */
  readonly partBytes: number;
  /** The admission gate's shared counts and bound (see `invocation-gate.ts`). */
  readonly gate: { readonly counts: SharedArrayBuffer; readonly maxRunning: number };
  /**
   * When the main thread runs small bodies' batches in a session of its own (a small, fast model; see
   * `backends/main-thread-session.ts`), the thread does likewise: the model's file, the records of the
   * largest small body, and the most bytes a body may declare to count as small.
   */
  readonly smallBodies: { readonly modelFile: ModelFile; readonly rows: number; readonly maxBytes: number } | undefined;
}

/** Main thread → codec thread. */
export type ToCodecThread =
  | { readonly type: "model"; readonly signature: ModelSignature; readonly inference: MessagePort }
  /**
   * Accept connections on `fd` (a descriptor of the listening socket of this thread's own); `slot`: this
   * thread's place in the gate's counts, in `connections` (each accepting thread's open connections, -1
   * for one not accepting), in `heartbeats` (counted up every second by each thread's event loop, for
   * the main thread's watchdog) and in `ringsMade` (the body rings each thread has made for the parts it
   * started); `responseHoldBytes` and `metrics` as the main thread's routes.
   */
  | {
      readonly type: "accept";
      readonly fd: number;
      readonly slot: number;
      readonly connections: SharedArrayBuffer;
      readonly heartbeats: SharedArrayBuffer;
      readonly ringsMade: SharedArrayBuffer;
      readonly responseHoldBytes: number;
      readonly metrics: boolean;
      readonly state: FrontState;
      /** Invocations (whole or parts) running on each codec thread, by the thread that started them (`running-counts.ts`). */
      readonly running: SharedArrayBuffer;
    }
  /** A port to the accepting codec thread at `slot` (a replacement's takes the dead thread's place). */
  | { readonly type: "peer"; readonly slot: number; readonly port: MessagePort }
  | { readonly type: "front-state"; readonly state: FrontState }
  /** Stop accepting, finish what the thread's connections are serving, then say "stopped-accepting". */
  | { readonly type: "stop-accepting" }
  /** The main thread's gate admitted the invocation that asked with `request` (its slot counted for this thread). */
  | { readonly type: "admitted"; readonly request: number }
  | { readonly type: "admission-refused"; readonly request: number; readonly error: WireError }
  /** `/metrics`' answer, for the thread's scrape `request`. */
  | { readonly type: "metrics-text"; readonly request: number; readonly text: string; readonly contentType: string }
  /** `ring` is the shared memory the body arrives in. */
  | { readonly type: "start"; readonly id: number; readonly job: InvocationJob; readonly ring: SharedArrayBuffer }
  /** More body bytes (or its end) are in the invocation's ring, and the codec thread said it was waiting for them. */
  | { readonly type: "wake"; readonly id: number }
  | { readonly type: "abort"; readonly id: number; readonly error: WireError }
  /** The main thread has passed on `bytes` more of the answer: the codec thread may produce more. */
  | { readonly type: "ack"; readonly id: number; readonly bytes: number };

/** Codec thread → main thread. */
export type FromCodecThread =
  /** `tid`: the thread's kernel id, for CPU time by thread (undefined without `/proc`). */
  | { readonly type: "ready"; readonly tid: number | undefined }
  | { readonly type: "startup-failed"; readonly error: WireError }
  /** The pipeline released ring bytes, and the main thread said it was waiting for room. */
  | { readonly type: "room"; readonly id: number }
  | { readonly type: "output"; readonly id: number; readonly bytes: Uint8Array; readonly stats: StatsSnapshot }
  /** `bytes`: the answer's last chunk, when it was held back to travel with the end. */
  | { readonly type: "done"; readonly id: number; readonly bytes?: Uint8Array; readonly stats: StatsSnapshot }
  | { readonly type: "failed"; readonly id: number; readonly error: WireError; readonly stats: StatsSnapshot }
  /** The thread listens (or could not: `error`). */
  | { readonly type: "accepting"; readonly error?: WireError }
  /** No slot is free: queue an invocation for this thread in the main thread's gate. */
  | { readonly type: "admit"; readonly request: number }
  /** The client of a queued invocation left. */
  | { readonly type: "admit-cancelled"; readonly request: number }
  /** The thread gave back a slot while invocations were queued. */
  | { readonly type: "slot-freed" }
  /** The log lines and metrics of invocations the thread served (posted together, a few at a time). */
  | { readonly type: "served"; readonly lines: readonly LogMessage[]; readonly outcomes: readonly InvocationOutcome[] }
  /** A `/metrics` scrape reached the thread. */
  | { readonly type: "metrics-wanted"; readonly request: number }
  | { readonly type: "stopped-accepting" }
  /** A part this thread started on the codec thread at `slot` was not stopped when asked: end that thread. */
  | { readonly type: "peer-stuck"; readonly slot: number }
  | LogMessage;

/** Codec thread → inference thread, over the port the main thread handed out. */
export type ToInferenceThread =
  | {
      readonly type: "run";
      readonly batch: number;
      readonly rows: number;
      readonly firstRecordIndex: number;
      readonly inputs: readonly InputArray[];
      readonly isolateFailures: boolean;
    }
  | { readonly type: "cancel"; readonly batch: number };

/** One output tensor of a batch. */
export interface WireOutput {
  readonly data: OutputValues;
  readonly width: number;
}

/** Inference thread → codec thread. The input arrays travel back for reuse. */
export type FromInferenceThread =
  | {
      readonly type: "result";
      readonly batch: number;
      readonly outputs: readonly WireOutput[];
      /** Rows the model failed on alone (a batch with `isolateFailures`), and why. */
      readonly failedRows?: ReadonlyMap<number, string>;
      readonly inputs: readonly InputArray[];
    }
  | {
      readonly type: "failed";
      readonly batch: number;
      readonly error: WireError;
      readonly inputs: readonly InputArray[];
    };

/** How to load the model, sent by the main thread to the inference thread. */
export interface LoadRequest extends ModelFile {
  readonly backend: BackendChoice;
  /** Threads ONNX Runtime may use for one run (its intra-op pool). */
  readonly intraOpThreads: number;
  /** Whether the CPU backend may give a model fewer (see `backends/intra-op-threads.ts`). */
  readonly chooseIntraOpThreads: boolean;
  /** Cores the container has. */
  readonly cpus: number;
  /**
   * For the first session: the sessions a model on one intra-op thread could have, which its trial
   * weighs against its intra-op threads (see `backends/intra-op-threads.ts`).
   */
  readonly sessionBudget?: SessionBudget;
}

/** The loaded model, as the inference thread reports it. */
export interface LoadedModel {
  readonly kind: string;
  readonly description: string;
  readonly signature: ModelSignature;
  readonly tuning: BackendTuning;
  readonly intraOpThreads?: number;
  /** See `Backend.recordMicroseconds` (`backends/backend.ts`). */
  readonly recordMicroseconds?: number;
}

/** Main thread → inference thread. */
export type ToInferenceHost =
  | { readonly type: "load"; readonly request: LoadRequest }
  | { readonly type: "connect"; readonly port: MessagePort }
  | { readonly type: "close" };

/** Inference thread → main thread. */
export type FromInferenceHost =
  /** `tid`: the inference thread's kernel id (undefined without `/proc`). */
  | { readonly type: "loaded"; readonly model: LoadedModel; readonly tid: number | undefined }
  | { readonly type: "load-failed"; readonly error: WireError }
  | { readonly type: "closed" }
  | LogMessage;

/**
 * The distinct buffers behind `values` that can be transferred (typed arrays); string arrays are
 * cloned by `postMessage` instead.
 */
export function transferList(values: readonly (InputArray | OutputValues)[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of values) if (!Array.isArray(value)) buffers.add((value as NumericArray).buffer as ArrayBuffer);
  return [...buffers];
}
