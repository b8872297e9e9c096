/**
 * The account of one /invocations request: one log line, written when the answer has gone (or failed
 * to), and the metrics it adds to. CloudWatch Logs Insights reads the line's fields directly:
 * `fields inference_id, status, ms.total | filter ms.total > 60000`.
 */
import { randomUUID } from "node:crypto";
import { ClientClosedRequestError, SluiceError } from "./errors.js";
import type { Invocation } from "./invocation-service.js";
import type { Logger, LogLevel } from "./log.js";
import type { MetricsEndpoint } from "./metrics.js";
import type { RecordFailure } from "./pipeline.js";
import type { InvocationStats } from "./threads/remote-invocation.js";

/** The request headers a report names. */
export interface RequestHeaders {
  readonly inferenceId: string | undefined;
  /** The platform's `X-Amzn-SageMaker-Custom-Attributes`: the client's own words about the request. */
  readonly customAttributes: string | undefined;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
}

const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms));

/** A record answered with a placeholder, in the log's words. */
const reported = (failure: RecordFailure | undefined) =>
  failure && {
    record_index: failure.recordIndex,
    line: failure.line,
    byte_offset: failure.byteOffset,
    code: failure.code,
    reason: failure.message,
  };

/** Reports one invocation. */
export class InvocationReport {
  /** The platform's `X-Amzn-SageMaker-Inference-Id`, or one made up (and sent back) when it sent none. */
  readonly inferenceId: string;
  readonly #started = performance.now();
  #invocation: Invocation | undefined;
  #answering: number | undefined;
  #reported = false;

  constructor(
    private readonly headers: RequestHeaders,
    private readonly log: Logger,
    private readonly metrics: MetricsEndpoint | undefined,
  ) {
    this.inferenceId = headers.inferenceId ?? randomUUID();
  }

  /** The invocation, once admitted. */
  admitted(invocation: Invocation): void {
    this.#invocation = invocation;
  }

  /** The answer starts going out to the client (its status is decided). */
  answering(): void {
    this.#answering = performance.now();
  }

  /**
   * Writes the line and counts the metrics, once. `error` with status 200 means the answer failed after
   * it was committed; `delivered: false`, that the client did not get all of it.
   */
  finish(status: number, error: unknown, delivered: boolean | undefined): void {
    if (this.#reported) return;
    this.#reported = true;
    const now = performance.now();
    const invocation = this.#invocation;
    const stats: InvocationStats | undefined = invocation?.stats;
    const failure = error instanceof Error ? error : undefined;
    const code = failure instanceof SluiceError ? failure.code : failure ? "INTERNAL" : undefined;
    // Errors are Sluice's own failures; refusals (4xx, 503) and clients leaving are warnings.
    const clientLeft = failure instanceof ClientClosedRequestError;
    const level: LogLevel =
      status === 500 || (failure && status === 200 && !clientLeft)
        ? "error"
        : failure || status >= 400 || delivered === false
          ? "warn"
          : "info";
    const stages = stats?.stageMs ?? {};
    // A refusal's answer never left (the client got the error's JSON instead): none of it counts as sent,
    // nor its records as answered.
    const answerSent = status === 200;
    const bytesOut = answerSent ? (stats?.bytesOut ?? 0) : 0;
    const ms = {
      total: round(now - this.#started),
      admission: round(invocation?.admissionMs),
      decode: round(stages.decode),
      model_wait: round(stages.modelWait),
      model: round(stages.model),
      encode: round(stages.encode),
      write: round(this.#answering === undefined ? undefined : now - this.#answering),
    };
    this.log.write(level, "invocation", {
      status,
      code,
      aborted: status === 200 && error !== undefined ? true : undefined,
      delivered: delivered === false ? false : undefined,
      inference_id: this.inferenceId,
      custom_attributes: this.headers.customAttributes,
      content_type: this.headers.contentType,
      accept: this.headers.accept,
      bytes_in: stats?.bytesIn ?? 0,
      bytes_out: bytesOut,
      records: stats?.records ?? 0,
      failed_records: stats?.failedRecords || undefined,
      // (A failed invocation's answer is not kept, and the parts of its body may not all have ended.)
      first_failed_record: failure ? undefined : reported(stats?.firstFailure),
      batches: stats?.batches ?? 0,
      thread: invocation?.thread,
      parts: stats?.parts !== undefined && stats.parts > 1 ? stats.parts : undefined,
      record_index: failure instanceof SluiceError ? (failure.details().recordIndex as number | undefined) : undefined,
      reason: failure?.message,
      ms,
    });
    const seconds: Record<string, number> = {};
    for (const stage in ms) {
      const value = ms[stage as keyof typeof ms];
      if (value !== undefined && stage !== "total") seconds[stage] = value / 1000;
    }
    this.metrics?.invocation({
      status,
      code,
      input: invocation?.inputType ?? "none",
      output: invocation?.contentType ?? "none",
      seconds: (now - this.#started) / 1000,
      recordsIn: answerSent ? (stats?.records ?? 0) : 0,
      recordsFailed: answerSent ? (stats?.failedRecords ?? 0) : 0,
      bytesIn: stats?.bytesIn ?? 0,
      bytesOut,
      stageSeconds: seconds,
      batchRows: stats?.batchRows ?? [],
    });
  }
}
