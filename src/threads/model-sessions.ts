/**
 * How many sessions of the model run side by side, each on an inference thread of its own (they run in
 * `inference-threads.ts`).
 *
 * Why more than one: onnxruntime-node runs a session synchronously on the thread that calls it, so one
 * inference thread runs one batch at a time, on its intra-op threads. A model that gains from those spreads
 * each batch over every core. One that does not (a timed batch gives it one intra-op thread, see
 * `intra-op-threads.ts`) runs every codec thread's batches in turn on one core, and once the codec threads
 * hand it more than that core can run, it sets the pace: the tabular model's records cost the inference
 * thread ~0.12 CPU s per million against ~0.57 on the codec threads, so one session keeps up with about five
 * codec threads, and on an instance of 16 or 64 cores would leave most of them idle. Such a model gets a
 * session for each codec thread's share of a record's cost that is the model's: the model's part from the
 * timed batch (doubled, to err towards a session too many: MNIST's records cost the inference thread ~1.5
 * times the timed batch's under load), the codec's estimated by {@link CODEC_RECORD_NS} and
 * {@link CODEC_VALUE_NS}. Each session holds its own copy of the weights, within {@link COPIED_WEIGHTS_BYTES}
 * in all; a model that gains from intra-op threads, or whose batch was not timed (a large one, or one whose
 * intra-op threads the operator set), keeps one session, its weights in memory once.
 */
import { statSync } from "node:fs";
import { type ModelSignature, totalInputWidth } from "../model/signature.js";

/** A codec thread's cost per record beside its values (framing, the answer's encoding), estimated. */
export const CODEC_RECORD_NS = 100;
/** A codec thread's cost per input value, estimated from text rows (CSV, JSON Lines: 13–18 ns measured). */
export const CODEC_VALUE_NS = 15;
/** The most memory all sessions' copies of a model file may take by default. */
export const COPIED_WEIGHTS_BYTES = 256 * 2 ** 20;
/** The most sessions `SLUICE_MODEL_SESSIONS` may ask for. */
export const MAX_MODEL_SESSIONS = 256;

/** What the choice depends on besides the model: sent with the first session's load request. */
export interface SessionBudget {
  /** `SLUICE_MODEL_SESSIONS`, when set. */
  readonly configured: number | undefined;
  readonly codecThreads: number;
}

/** What the choice depends on. */
export interface SessionNeeds extends SessionBudget {
  /** The intra-op threads the first session was given. */
  readonly intraOpThreads: number;
  /** A record's share of the first session's timed batch on one intra-op thread, when it was timed. */
  readonly recordMicroseconds: number | undefined;
  /** Values in one record of the model's inputs. */
  readonly inputValues: number;
  readonly modelBytes: number;
}

/** How many sessions, and why (for the "model loaded" log line). */
export function modelSessions(needs: SessionNeeds): { readonly sessions: number; readonly reason: string } {
  if (needs.configured !== undefined) return { sessions: needs.configured, reason: "SLUICE_MODEL_SESSIONS" };
  if (needs.intraOpThreads > 1) return { sessions: 1, reason: "each batch runs on several intra-op threads" };
  if (needs.recordMicroseconds === undefined) return { sessions: 1, reason: "no timed batch" };
  const model = 2 * needs.recordMicroseconds * 1000;
  const codec = CODEC_RECORD_NS + CODEC_VALUE_NS * needs.inputValues;
  const wanted = Math.ceil((needs.codecThreads * model) / (model + codec));
  const affordable = Math.floor(COPIED_WEIGHTS_BYTES / Math.max(1, needs.modelBytes));
  const sessions = Math.max(1, Math.min(wanted, affordable, needs.codecThreads));
  const estimate = `a record ~${Math.round(model)} ns in the model (twice the timed batch's) against ~${Math.round(codec)} ns estimated in a codec thread`;
  const capped =
    affordable < Math.min(wanted, needs.codecThreads)
      ? `, copies of the model within ${COPIED_WEIGHTS_BYTES / 2 ** 20} MiB`
      : "";
  return { sessions, reason: `${estimate}, ${needs.codecThreads} codec thread(s)${capped}` };
}

/** What {@link modelSessions} needs to know of a loaded model. */
export interface LoadedSession {
  readonly signature: ModelSignature;
  readonly intraOpThreads: number;
  readonly recordMicroseconds: number | undefined;
}

/** {@link modelSessions} for the model file at `modelPath`, loaded as `loaded` says, within `budget`. */
export function sessionsOf(budget: SessionBudget, modelPath: string, loaded: LoadedSession) {
  return modelSessions({
    ...budget,
    intraOpThreads: loaded.intraOpThreads,
    recordMicroseconds: loaded.recordMicroseconds,
    inputValues: totalInputWidth(loaded.signature),
    modelBytes: statSync(modelPath).size,
  });
}
