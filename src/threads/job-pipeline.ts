/**
 * One invocation's pipeline as a codec thread runs it, whether its body came through a ring from the main
 * thread or off a connection the thread accepted itself: undo the content codings, then frame, decode,
 * batch, run on the inference thread and encode.
 */
import type { BatchBufferPool } from "../batch-buffer-pool.js";
import type { CodecRegistry } from "../codec/registry.js";
import { decodeContent } from "../content-encoding.js";
import type { ModelSignature } from "../model/signature.js";
import { PENDING_BATCHES_PER_INVOCATION, type PipelineStats, runPipeline } from "../pipeline.js";
import type { InvocationJob } from "./messages.js";
import type { RemoteBackend } from "./remote-backend.js";

/** The model as a codec thread reaches it. */
export interface ThreadModel {
  readonly signature: ModelSignature;
  readonly backend: RemoteBackend;
  readonly buffers: BatchBufferPool;
}

/** The answer's chunks for `body`; `stats` counts as it goes. */
export function runJob(
  job: InvocationJob,
  body: AsyncIterable<Uint8Array>,
  registry: CodecRegistry,
  model: ThreadModel,
  signal: AbortSignal | undefined,
  stats: PipelineStats,
): AsyncGenerator<Uint8Array> {
  const { input, output } = registry.resolveNegotiated(job.input, job.output);
  const decoded =
    job.contentCodings.length > 0 ? decodeContent(body, job.contentCodings, job.maxDecompressionRatio) : body;
  return runPipeline(
    decoded,
    {
      backend: model.backend,
      signature: model.signature,
      input,
      output,
      batchRows: job.batchRows,
      maxBodyBytes: job.maxBodyBytes,
      recordErrorPolicy: job.recordErrorPolicy,
      singleRecord: job.singleRecord,
      maxPendingBatches: PENDING_BATCHES_PER_INVOCATION,
      signal,
      buffers: model.buffers,
    },
    stats,
  );
}
