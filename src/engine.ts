/**
 * The engine behind the HTTP routes: loads the model in the background, knows whether it is ready,
 * negotiates codecs and admits invocations. It knows nothing of HTTP; `server.ts` does.
 */
import type { Backend } from "./backends/backend.js";
import { selectBackend } from "./backends/select-backend.js";
import type { InputFormat, OutputFormat } from "./codec/codec.js";
import { parseMediaType } from "./codec/media-type.js";
import type { CodecRegistry, Resolved } from "./codec/registry.js";
import type { Config } from "./config.js";
import { type ContainerResources, containerResources } from "./container-resources.js";
import { ConfigError, ModelUnavailableError, PayloadTooLargeError } from "./errors.js";
import { type ExecutionParameters, executionParameters } from "./execution-parameters.js";
import { InvocationGate, type Release } from "./invocation-gate.js";
import type { Logger } from "./log.js";
import { codecSignature, type ModelConfig } from "./model/model-config.js";
import { locateModel } from "./model/model-location.js";
import type { ModelSignature } from "./model/signature.js";
import { PipelineStats, runPipeline } from "./pipeline.js";

/** Where model loading stands. */
export type ModelState =
  | { readonly status: "loading" }
  | {
      readonly status: "ready";
      readonly backend: Backend;
      readonly gate: InvocationGate;
      /** The model's signature as codecs see it (inputs renamed by `sluice.json`). */
      readonly signature: ModelSignature;
      readonly modelConfig: ModelConfig | undefined;
    }
  | { readonly status: "failed"; readonly error: Error };

/** One /invocations request, as the engine sees it. */
export interface InvocationRequest {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  /** Declared body length, when the request has one: checked before reading a byte. */
  readonly contentLength: number | undefined;
  readonly signal?: AbortSignal;
}

/** An admitted invocation: its output stream, content type and counters. */
export interface Invocation {
  readonly contentType: string;
  readonly output: AsyncGenerator<Uint8Array>;
  readonly stats: PipelineStats;
  /** Frees the concurrency slot; call when the response is finished or abandoned. */
  readonly release: Release;
}

/** Batches a request keeps in flight while it decodes the next one. */
const PENDING_BATCHES_PER_INVOCATION = 2;

/** Loads the model and serves invocations. */
export class Engine {
  #state: ModelState = { status: "loading" };

  constructor(
    readonly config: Config,
    readonly registry: CodecRegistry,
    readonly log: Logger,
    readonly resources: ContainerResources = containerResources(),
  ) {}

  /** The current model state. */
  get state(): ModelState {
    return this.#state;
  }

  /** Loads the model; resolves with the backend or rejects with the reason (also kept in `state`). */
  async load(): Promise<Backend> {
    const started = performance.now();
    try {
      const location = locateModel(this.config.modelDir, this.config.batchJob);
      if (location.fallbackReason) this.log.warn(location.fallbackReason, { model: location.file });
      const backend = await selectBackend({
        choice: this.config.backend,
        modelPath: location.file,
        resources: this.resources,
        parallelRuns: this.config.maxConcurrentTransforms,
        log: this.log,
      });
      const modelConfig = location.config;
      const signature = codecSignature(backend.signature, modelConfig);
      this.#checkDefaultAccept(modelConfig);
      const maxRunning = this.config.maxConcurrentTransforms ?? backend.tuning.suggestedConcurrentTransforms;
      const gate = new InvocationGate(maxRunning, this.config.maxQueuedInvocations ?? maxRunning);
      this.#state = { status: "ready", backend, gate, signature, modelConfig };
      const { inputs, outputs } = backend.signature;
      this.log.info("model loaded", {
        model: location.file,
        backend: backend.kind,
        detail: backend.description,
        inputs: inputs.map((t) => `${t.name}:${t.type}[N,${t.recordShape.join(",")}]`).join(" "),
        outputs: outputs.map((t) => `${t.name}:${t.type}`).join(" "),
        batch_rows: this.batchRows(backend, modelConfig),
        config: modelConfig ? JSON.stringify(modelConfig) : undefined,
        max_concurrent: maxRunning,
        ms: Math.round(performance.now() - started),
      });
      return backend;
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.#state = { status: "failed", error };
      this.log.error("model failed to load", { reason: error.message });
      throw error;
    }
  }

  #checkDefaultAccept(modelConfig: ModelConfig | undefined): void {
    const accept = modelConfig?.accept;
    if (accept === undefined) return;
    const writable = this.registry.outputMediaTypes();
    if (!writable.includes(parseMediaType(accept)?.essence ?? "")) {
      throw new ConfigError(
        `sluice.json: "accept" is ${accept}, which no installed codec writes (${writable.join(", ")})`,
      );
    }
  }

  /**
   * Records per batch: `SLUICE_BATCH_ROWS`, else `sluice.json`'s, else the backend's; never above the
   * model's fixed batch axis.
   */
  batchRows(backend: Backend, modelConfig: ModelConfig | undefined): number {
    const wanted = this.config.batchRows ?? modelConfig?.batchRows ?? backend.tuning.batchRows;
    return Math.max(1, Math.min(wanted, backend.signature.maxBatchRows));
  }

  /** The backend, or `ModelUnavailableError` (503) while loading or after a failed load. */
  ready(): Extract<ModelState, { status: "ready" }> {
    const state = this.#state;
    if (state.status === "ready") return state;
    if (state.status === "loading") throw new ModelUnavailableError("the model is still loading");
    throw new ModelUnavailableError(`the model failed to load: ${state.error.message}`, "MODEL_LOAD_FAILED");
  }

  /** Values for `/execution-parameters`, tuned to the backend once it is known. */
  executionParameters(): ExecutionParameters {
    const state = this.#state;
    const tuning =
      state.status === "ready"
        ? state.backend.tuning
        : {
            batchRows: 0,
            parallelRuns: this.resources.cpus,
            suggestedConcurrentTransforms: this.resources.cpus,
            preferredPayloadMB: 16,
          };
    return executionParameters(this.resources, tuning, this.config.batchStrategySpelling);
  }

  /**
   * Negotiates the codecs. A missing or `*∕*` Accept takes `sluice.json`'s `accept` when it has one.
   * Throws 415 / 406 errors before any byte of the body is read.
   */
  negotiate(contentType: string | undefined, accept: string | undefined, modelConfig?: ModelConfig) {
    const input: Resolved<InputFormat> = this.registry.resolveInput(contentType);
    const output: Resolved<OutputFormat> = this.registry.resolveOutput(accept, input, modelConfig?.accept);
    return { input, output };
  }

  /** Checks, admits and starts one invocation. */
  async invoke(request: InvocationRequest): Promise<Invocation> {
    const { backend, gate, signature, modelConfig } = this.ready();
    const { input, output } = this.negotiate(request.contentType, request.accept, modelConfig);
    const limit = this.config.maxPayloadBytes;
    if (limit !== undefined && request.contentLength !== undefined && request.contentLength > limit) {
      throw new PayloadTooLargeError(limit);
    }
    const release = await gate.acquire(request.signal);
    const stats = new PipelineStats();
    const pipeline = runPipeline(
      request.body,
      {
        backend,
        signature,
        input,
        output,
        batchRows: this.batchRows(backend, modelConfig),
        maxBodyBytes: limit,
        recordErrorPolicy: this.config.recordErrorPolicy,
        singleRecord: this.config.batchStrategy === "SINGLE_RECORD",
        settings: this.config.codecSettings,
        maxPendingBatches: PENDING_BATCHES_PER_INVOCATION,
        signal: request.signal,
      },
      stats,
    );
    return { contentType: output.mediaType.essence, output: pipeline, stats, release };
  }

  /** Releases the backend. */
  async close(): Promise<void> {
    if (this.#state.status === "ready") await this.#state.backend.close();
  }
}
