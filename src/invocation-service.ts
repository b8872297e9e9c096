/**
 * The invocation service behind the HTTP routes: loads the model (on its inference threads) and starts the codec
 * threads, knows whether it is ready, negotiates codecs and admits invocations. It knows nothing of
 * HTTP; `http-routes.ts` does.
 */
import type { Server } from "node:net";
import type { Backend } from "./backends/backend.js";
import { cpuTuning } from "./backends/cpu-tuning.js";
import { MAIN_THREAD_STALL_MS, openMainThreadSession } from "./backends/main-thread-session.js";
import type { ModelFile } from "./backends/onnx-model-session.js";
import { BatchBufferPool } from "./batch-buffer-pool.js";
import type { InputFormat, OutputFormat } from "./codec/codec.js";
import type { RecordBoundaryScanner } from "./codec/framing.js";
import { parseMediaType } from "./codec/media-type.js";
import { createCodecRegistry, type PluginSources } from "./codec/plugin-loader.js";
import type { CodecRegistry, NegotiatedFormat } from "./codec/registry.js";
import { type Config, defaultCodecThreads } from "./config.js";
import { type ContainerResources, containerResources } from "./container-resources.js";
import { type ContentCoding, parseContentEncoding } from "./content-encoding.js";
import { ConfigError, ModelUnavailableError, PayloadTooLargeError } from "./errors.js";
import { type ExecutionParameters, executionParameters } from "./execution-parameters.js";
import type { InvocationFront } from "./http-routes.js";
import { InvocationGate, type Release } from "./invocation-gate.js";
import type { Logger } from "./log.js";
import { runOnMainThread } from "./main-thread-invocation.js";
import type { MetricsEndpoint } from "./metrics.js";
import { codecSignature, type DimensionSizes, type ModelConfig } from "./model/model-config.js";
import { locateModel } from "./model/model-location.js";
import { type ModelSignature, totalInputWidth, totalOutputWidth } from "./model/signature.js";
import { PENDING_BATCHES_PER_INVOCATION } from "./pipeline.js";
import { type AcceptLink, CodecThreadPool } from "./threads/codec-thread-pool.js";
import { InferenceThreads } from "./threads/inference-threads.js";
import type { FrontState, InvocationJob, LoadedModel } from "./threads/messages.js";
import { RemoteBackend } from "./threads/remote-backend.js";
import type { InvocationStats, RemoteInvocation } from "./threads/remote-invocation.js";
import { invokeInParts, type SplitInvocation } from "./threads/split-invocation.js";

/** Where model loading stands. */
export type ModelState =
  | { readonly status: "loading" }
  | {
      readonly status: "ready";
      readonly model: LoadedModel;
      readonly gate: InvocationGate;
      /** The model's signature as codecs see it (inputs renamed by `sluice.json`). */
      readonly signature: ModelSignature;
      readonly modelConfig: ModelConfig | undefined;
      /** Sessions of the model side by side, each on an inference thread (see `threads/model-sessions.ts`). */
      readonly sessions: number;
    }
  | { readonly status: "failed"; readonly error: Error };

/** One /invocations request, as the service sees it. */
export interface InvocationRequest {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  /** Declared body length, when the request has one: checked before reading a byte. */
  readonly contentLength: number | undefined;
  /** The `Content-Encoding` header, when the body is compressed. */
  readonly contentEncoding?: string;
  readonly signal?: AbortSignal;
}

/** An admitted invocation: its output stream, content type and counters. */
export interface Invocation {
  /** The negotiated input media type (essence). */
  readonly inputType: string;
  /** The answer's media type (essence). */
  readonly contentType: string;
  /** Milliseconds the invocation waited for a slot. */
  readonly admissionMs: number;
  readonly output: AsyncGenerator<Uint8Array>;
  /** The counters its codec thread last reported. */
  readonly stats: InvocationStats;
  /** Frees the concurrency slot; call when the response is finished or abandoned. */
  readonly release: Release;
  /**
   * Where its records are framed, decoded and encoded: the main thread (a small body), a codec thread the
   * main thread handed the body to, or a codec thread that accepted the connection itself.
   */
  readonly thread: "main" | "codec" | "codec-accepted";
}

/** How many threads do record work and run the model. */
export interface ThreadBudget {
  /** Codec threads: framing, decoding, batching and encoding, one invocation each at a time. */
  readonly codecThreads: number;
  /**
   * ONNX Runtime's intra-op threads for one run: `SLUICE_INFERENCE_THREADS`, else one per core, of which a
   * model that a timed batch shows no faster on them gets one (the "model loaded" line says which).
   */
  readonly inferenceThreads: number;
}

/** Kernel thread ids by role (empty or undefined without `/proc`, or before they start). */
export interface ThreadIds {
  readonly codec: readonly number[];
  readonly inference: readonly number[];
}

/** The slot whose session the main thread's small invocations use when they go to an inference thread. */
const MAIN_THREAD_SLOT = 0;

/** The model as the main thread's small invocations run it, and the pool their batches are staged in. */
interface MainThreadModel {
  readonly backend: Backend;
  /** Its port to an inference thread (the backend itself, or the fallback of a session of its own). */
  readonly remote: RemoteBackend;
  readonly buffers: BatchBufferPool;
  /** When the model runs in a session of this thread's own: its file, and the records of the largest small body. */
  readonly ownSession: { readonly modelFile: ModelFile; readonly rows: number } | undefined;
  close(): Promise<void>;
}

/** A request's formats and body, as checked before a byte of its body is read. */
export interface CheckedRequest {
  readonly input: NegotiatedFormat<InputFormat>;
  readonly output: NegotiatedFormat<OutputFormat>;
  /** Content codings to undo, in order. */
  readonly contentCodings: ContentCoding[];
  /** The declared length of an uncompressed body (a compressed one's says nothing of what it decodes to). */
  readonly declared: number | undefined;
}

/**
 * Checks a request before any byte of its body is read, on whichever thread took it: negotiates the codecs
 * (415 / 406; a missing or `*∕*` Accept takes `defaultAccept`, `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT` else
 * `sluice.json`'s `accept`, when one is set), parses the content codings, and refuses a declared length
 * over `maxPayloadBytes` (413).
 */
export function checkRequest(
  registry: CodecRegistry,
  request: InvocationRequest,
  signature: ModelSignature,
  defaultAccept: string | undefined,
  maxPayloadBytes: number | undefined,
): CheckedRequest {
  const input = registry.resolveInput(request.contentType);
  const output = registry.resolveOutput(request.accept, input, defaultAccept);
  registry.checkTextSupport(signature, input, output);
  const contentCodings = parseContentEncoding(request.contentEncoding);
  const declared = contentCodings.length === 0 ? request.contentLength : undefined;
  if (maxPayloadBytes !== undefined && declared !== undefined && declared > maxPayloadBytes) {
    throw new PayloadTooLargeError(maxPayloadBytes);
  }
  return { input, output, contentCodings, declared };
}

/**
 * The input codec's record-end scanner when a body may be run as parts on several codec threads: a body
 * not known to be shorter than a part (`partBytes`, 0 for never), uncompressed, of many records, read and
 * answered by built-in codecs (a scanner runs on the thread that cuts, where a plugin's code does not)
 * whose bodies can be cut and answers joined, while at least two codec threads are idle.
 */
export function bodyPartsScanner(
  registry: CodecRegistry,
  job: InvocationJob,
  checked: Pick<CheckedRequest, "input" | "output" | "declared">,
  signature: ModelSignature,
  partBytes: number,
  idleThreads: number,
): RecordBoundaryScanner | undefined {
  const { input, output, declared } = checked;
  if (
    partBytes === 0 ||
    (declared !== undefined && declared <= partBytes) ||
    job.contentCodings.length > 0 ||
    job.singleRecord ||
    idleThreads < 2 ||
    !output.format.concatenates ||
    !registry.isBuiltIn(input.codec) ||
    !registry.isBuiltIn(output.codec)
  ) {
    return undefined;
  }
  return input.format.createBoundaryScanner?.({
    signature,
    mediaType: input.mediaType,
    singleRecord: false,
    settings: input.settings,
  });
}

/** The 503 for a model still loading, or (given the reason) one that failed to load. */
export function modelUnavailable(failure: string | undefined): ModelUnavailableError {
  return failure === undefined
    ? new ModelUnavailableError("the model is still loading")
    : new ModelUnavailableError(`the model failed to load: ${failure}`, "MODEL_LOAD_FAILED");
}

/** Loads the model and serves invocations. */
export class InvocationService implements InvocationFront {
  #state: ModelState = { status: "loading" };
  #inference: InferenceThreads | undefined;
  #codecs: Promise<CodecThreadPool> | undefined;
  /** Set when codec threads are to accept connections too. */
  #acceptLink: AcceptLink | undefined;
  #startedCodecs: CodecThreadPool | undefined;
  /**
   * The model as small invocations on the main thread reach it: a session of its own for a small, fast
   * model (see `main-thread-session.ts`), else its own port to the inference thread.
   */
  #mainThreadModel: MainThreadModel | undefined;
  /**
   * Output values per input value of a record, at least 1: a body counts as this many times its length
   * when deciding whether it is small, so that a model answering far more than it reads (an image from a
   * prompt) never has large answers encoded on the main thread.
   */
  #answerSpread = 1;
  #closed = false;
  readonly threads: ThreadBudget;
  /** Called each time the model is (re)loaded. */
  onModelLoaded: ((state: Extract<ModelState, { status: "ready" }>, modelFile: string) => void) | undefined;

  #registry: CodecRegistry;

  constructor(
    readonly config: Config,
    registry: CodecRegistry,
    readonly log: Logger,
    readonly resources: ContainerResources = containerResources(),
  ) {
    // Both default to every core: a codec-bound job keeps the codec threads busy while the model's
    // threads sleep (they do not spin), and a compute-bound model the other way round.
    this.#registry = registry;
    this.threads = {
      codecThreads: config.codecThreads ?? defaultCodecThreads(resources.cpus),
      inferenceThreads: config.inferenceThreads ?? resources.cpus,
    };
  }

  /** The installed codecs: those given to the constructor, then (once loaded) the model directory's too. */
  get registry(): CodecRegistry {
    return this.#registry;
  }

  /** The kernel ids of the threads doing record work and running the model, once started. */
  threadIds(): ThreadIds {
    return { codec: this.#startedCodecs?.threadIds() ?? [], inference: this.#inference?.threadIds() ?? [] };
  }

  /** The threads holding the model's sessions, once started; new ones after a reload. */
  get inferenceThreads(): InferenceThreads | undefined {
    return this.#inference;
  }

  /** Body rings the codec threads' invocations have been lent so far (reused; see `body-ring-pool.ts`). */
  get bodyRingsCreated(): number {
    return this.#startedCodecs?.ringsCreated ?? 0;
  }

  /** The current model state. */
  get state(): ModelState {
    return this.#state;
  }

  /** Starts the codec threads, loads the model; resolves when both are ready, rejects with the reason. */
  async load(): Promise<LoadedModel> {
    const started = performance.now();
    try {
      const location = await locateModel(this.config.modelDir, this.config.batchJob);
      if (location.fallbackReason) this.log.warn(location.fallbackReason, { model: location.file });
      if (location.archive) {
        this.log.info("model archive unpacked, as the platform unpacks it into /opt/ml/model", {
          archive: location.archive,
          dir: location.dir,
        });
      }
      const modelConfig = location.config;
      const sources: PluginSources = {
        plugins: this.config.plugins,
        modelPlugins: modelConfig?.codecs,
        modelDir: location.dir,
        env: this.config.codecEnv,
        codecSettings: modelConfig?.codecSettings,
      };
      if (modelConfig?.codecs?.length || modelConfig?.codecSettings)
        this.#registry = await createCodecRegistry(sources);
      if (!this.#codecs) {
        this.#codecs = CodecThreadPool.start(
          this.threads.codecThreads,
          { ...sources, acceptsConnections: this.#acceptLink !== undefined },
          this.log,
        );
        const link = this.#acceptLink;
        if (link) this.#codecs.then((pool) => pool.acceptConnections(link)).catch(() => {});
      }
      this.#checkDefaultAccept(modelConfig);
      const modelFile: ModelFile = { modelPath: location.file, dimensions: this.#dimensions(modelConfig) };
      const { threads, model, sessions } = await InferenceThreads.load(
        {
          ...modelFile,
          backend: this.config.backend,
          intraOpThreads: this.threads.inferenceThreads,
          chooseIntraOpThreads: this.config.inferenceThreads === undefined,
          cpus: this.resources.cpus,
        },
        {
          configured: this.config.modelSessions,
          codecThreads: this.threads.codecThreads,
          log: this.log,
          events: { lost: (reason) => this.#restart(reason), replaced: (index) => this.#reconnect(index) },
        },
      );
      this.#inference = threads;
      const signature = codecSignature(model.signature, modelConfig);
      const codecs = await this.#codecs;
      this.#startedCodecs = codecs;
      codecs.attachModel({ signature, connect: (slot) => threads.connect(slot) });
      await this.#mainThreadModel?.close();
      const batchRows = this.batchRows(model, modelConfig);
      const mainThread = await this.#openMainThreadModel(threads, model, signature, modelFile, batchRows);
      this.#mainThreadModel = mainThread.model;
      this.#answerSpread = Math.max(1, totalOutputWidth(signature) / Math.max(1, totalInputWidth(signature)));
      const maxRunning = this.config.maxConcurrentTransforms ?? model.tuning.suggestedConcurrentTransforms;
      const gate =
        this.#state.status === "ready"
          ? this.#state.gate
          : new InvocationGate(
              maxRunning,
              this.config.maxQueuedInvocations ?? maxRunning,
              undefined,
              this.threads.codecThreads,
            );
      const ready = { status: "ready", model, gate, signature, modelConfig, sessions: sessions.sessions } as const;
      this.#setState(ready);
      this.onModelLoaded?.(ready, location.file);
      const { inputs, outputs } = model.signature;
      this.log.info("model loaded", {
        model: location.file,
        backend: model.kind,
        detail: model.description,
        inputs: inputs.map((t) => `${t.name}:${t.type}[N,${t.recordShape.join(",")}]`).join(" "),
        outputs: outputs
          .map((t) => (t.mapKeys ? `${t.name}:map{${t.mapKeys.join(",")}}` : `${t.name}:${t.type}`))
          .join(" "),
        missing_values:
          signature.inputs
            .filter((t) => t.acceptsMissing)
            .map((t) => t.name)
            .join(" ") || "refused",
        ...(signature.inputs.some((t) => t.absentIsMissing) && {
          sparse_absent_values: "missing, as XGBoost reads them",
        }),
        batch_rows: batchRows,
        batch_rows_from:
          this.config.batchRows !== undefined
            ? "environment"
            : modelConfig?.batchRows !== undefined
              ? "sluice.json"
              : "measured",
        config: modelConfig ? JSON.stringify(modelConfig) : undefined,
        max_concurrent: maxRunning,
        max_concurrent_from: this.config.maxConcurrentTransforms !== undefined ? "environment" : "measured",
        codec_threads: codecs.size,
        inference_threads: model.intraOpThreads,
        model_sessions: `${sessions.sessions}: ${sessions.reason}`,
        main_thread_session: mainThread.choice,
        ms: Math.round(performance.now() - started),
      });
      return model;
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.#setState({ status: "failed", error });
      this.log.error("model failed to load", { reason: error.message });
      throw error;
    }
  }

  /** Sizes for the model's named dynamic dimensions: `SLUICE_DIMENSIONS`'s, then `sluice.json`'s. */
  #dimensions(modelConfig: ModelConfig | undefined): DimensionSizes | undefined {
    if (!this.config.dimensions && !modelConfig?.dimensions) return undefined;
    return { ...modelConfig?.dimensions, ...this.config.dimensions };
  }

  /**
   * The model as small invocations on the main thread will run it: a session of its own when the model is
   * small and fast (see `main-thread-session.ts`), else a port of their own to the inference thread; and
   * which it is, and why, for the start-up log.
   */
  async #openMainThreadModel(
    threads: InferenceThreads,
    model: LoadedModel,
    signature: ModelSignature,
    modelFile: ModelFile,
    batchRows: number,
  ): Promise<{ model: MainThreadModel; choice: string }> {
    const buffers = new BatchBufferPool(signature);
    const remote = new RemoteBackend(threads.connect(MAIN_THREAD_SLOT), signature, buffers);
    // The most records a small body can hold: the shortest value a record's field takes is two bytes, `0,`.
    const smallBodyRows = Math.floor(this.config.smallBodyBytes / (2 * totalInputWidth(signature)));
    const rows = Math.min(batchRows, smallBodyRows);
    const local =
      model.kind !== "cpu"
        ? { backend: undefined, reason: `the ${model.kind} backend` }
        : smallBodyRows === 0
          ? {
              backend: undefined,
              reason: `no small body holds a record (SLUICE_SMALL_BODY_BYTES=${this.config.smallBodyBytes})`,
            }
          : await openMainThreadSession(modelFile, rows, buffers, {
              backend: remote,
              onRetired: (runMs) =>
                this.log.warn(
                  "a batch held the main thread too long; small bodies' batches go to the inference thread",
                  {
                    run_ms: Math.round(runMs),
                    limit_ms: MAIN_THREAD_STALL_MS,
                  },
                ),
            });
    const close = async () => {
      await local.backend?.close();
      await remote.close();
    };
    return {
      model: {
        backend: local.backend ?? remote,
        remote,
        buffers,
        close,
        ownSession: local.backend && { modelFile, rows },
      },
      choice: `${local.backend ? "yes" : "no"}: ${local.reason}`,
    };
  }

  /** Session `index` was loaded again on a new thread: the threads it served connect to it. */
  #reconnect(index: number): void {
    const threads = this.#inference;
    if (!threads) return;
    this.#startedCodecs?.relink((slot) => threads.serves(index, slot));
    if (threads.serves(index, MAIN_THREAD_SLOT))
      this.#mainThreadModel?.remote.reconnect(threads.connect(MAIN_THREAD_SLOT));
  }

  /** The model's only inference thread died: what ran on it has failed; load the model again on a new one. */
  #restart(reason: string): void {
    if (this.#closed) return;
    // Any other sessions are closed too (the codec threads get ports to the new ones).
    this.#inference?.close().catch(() => {});
    this.#inference = undefined;
    this.log.error("the inference thread stopped; reloading the model", { reason });
    this.#setState({ status: "loading" });
    this.load().catch(() => {});
  }

  /** Refuses a default answer format (the environment's, `sluice.json`'s) that no installed codec writes. */
  #checkDefaultAccept(modelConfig: ModelConfig | undefined): void {
    const writable = this.registry.outputMediaTypes();
    const defaults = [
      ["SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is", this.config.defaultAccept],
      ['sluice.json: "accept" is', modelConfig?.accept],
    ] as const;
    for (const [where, accept] of defaults) {
      if (accept !== undefined && !writable.includes(parseMediaType(accept)?.essence ?? "")) {
        throw new ConfigError(`${where} ${accept}, which no installed codec writes (${writable.join(", ")})`);
      }
    }
  }

  /**
   * Records per batch: `SLUICE_BATCH_ROWS`, else `sluice.json`'s, else the backend's; never above the
   * model's fixed batch axis.
   */
  batchRows(model: Pick<Backend, "signature" | "tuning">, modelConfig: ModelConfig | undefined): number {
    const wanted = this.config.batchRows ?? modelConfig?.batchRows ?? model.tuning.batchRows;
    return Math.max(1, Math.min(wanted, model.signature.maxBatchRows));
  }

  /** The backend, or `ModelUnavailableError` (503) while loading or after a failed load. */
  ready(): Extract<ModelState, { status: "ready" }> {
    const state = this.#state;
    if (state.status === "ready") return state;
    throw modelUnavailable(state.status === "failed" ? state.error.message : undefined);
  }

  get responseHoldBytes(): number {
    return this.config.responseHoldBytes;
  }

  /**
   * Has the codec threads accept connections on `listening`'s socket (`SLUICE_ACCEPT=every-thread`), each
   * serving its own end to end; `metrics` counts what they serve; `onAccepting` is called when the first
   * thread accepts (the main thread then stops).
   */
  acceptOnCodecThreads(listening: Server, metrics: MetricsEndpoint | undefined, onAccepting: () => void): void {
    this.#acceptLink = {
      listening,
      onAccepting,
      responseHoldBytes: this.config.responseHoldBytes,
      metrics,
      gate: () => (this.#state.status === "ready" ? this.#state.gate : undefined),
      state: () => this.#frontState(),
    };
  }

  /** The state codec threads that accept connections serve from. */
  #frontState(): FrontState {
    const state = this.#state;
    const executionParameters = this.executionParameters();
    if (state.status === "loading") return { executionParameters, model: { status: "loading" } };
    if (state.status === "failed")
      return { executionParameters, model: { status: "failed", reason: state.error.message } };
    const { model, gate, signature, modelConfig } = state;
    return {
      executionParameters,
      model: {
        status: "ready",
        settings: {
          signature,
          defaultAccept: this.config.defaultAccept ?? modelConfig?.accept,
          maxPayloadBytes: this.config.maxPayloadBytes,
          batchRows: this.batchRows(model, modelConfig),
          recordErrorPolicy: this.config.recordErrorPolicy,
          singleRecord: this.config.batchStrategy === "SINGLE_RECORD",
          bodyIdleTimeoutMs: this.config.bodyIdleTimeoutSeconds * 1000,
          maxDecompressionRatio: this.config.maxDecompressionRatio,
          partBytes: this.config.partBytes,
          gate: { counts: gate.counts, maxRunning: gate.maxRunning },
          smallBodies: this.#mainThreadModel?.ownSession && {
            ...this.#mainThreadModel.ownSession,
            maxBytes: this.config.smallBodyBytes / this.#answerSpread,
          },
        },
      },
    };
  }

  /** Stops the codec threads accepting connections; resolves when their answers have finished. */
  async stopAccepting(): Promise<void> {
    const codecs = await this.#codecs?.catch(() => undefined);
    await codecs?.stopAccepting();
  }

  /** Sets the state, and tells codec threads that accept connections (they are sent the latest). */
  #setState(state: ModelState): void {
    this.#state = state;
    this.#codecs?.then((pool) => pool.frontStateChanged()).catch(() => {});
  }

  /** Values for `/execution-parameters`, tuned to the backend once it is known. */
  executionParameters(): ExecutionParameters {
    const state = this.#state;
    const tuning = state.status === "ready" ? state.model.tuning : cpuTuning(this.resources.cpus);
    return executionParameters(this.resources, tuning, this.config.batchStrategySpelling, this.config);
  }

  /** Checks, admits and starts one invocation: on a codec thread, or here when its body is small. */
  async invoke(request: InvocationRequest): Promise<Invocation> {
    const { model, gate, modelConfig, signature } = this.ready();
    const limit = this.config.maxPayloadBytes;
    const { input, output, contentCodings, declared } = checkRequest(
      this.registry,
      request,
      signature,
      this.config.defaultAccept ?? modelConfig?.accept,
      limit,
    );
    const waitStarted = performance.now();
    const release = await gate.acquire(request.signal);
    const admissionMs = performance.now() - waitStarted;
    const batchRows = this.batchRows(model, modelConfig);
    const singleRecord = this.config.batchStrategy === "SINGLE_RECORD";
    const inputType = input.mediaType.essence;
    const contentType = output.mediaType.essence;
    const bodyIdleTimeoutMs = this.config.bodyIdleTimeoutSeconds * 1000;
    const mainThreadModel = this.#mainThreadModel;
    // Object literals written out in full, not spread: V8 gave each spread's copy a map of its own, two new
    // maps per invocation (their transitions logged on every request) and the garbage they leave.
    if (
      mainThreadModel &&
      declared !== undefined &&
      declared * this.#answerSpread <= this.config.smallBodyBytes &&
      this.registry.isBuiltIn(input.codec) &&
      this.registry.isBuiltIn(output.codec)
    ) {
      const { output: answer, stats } = runOnMainThread(
        request.body,
        {
          backend: mainThreadModel.backend,
          signature,
          input,
          output,
          batchRows,
          maxBodyBytes: limit,
          recordErrorPolicy: this.config.recordErrorPolicy,
          singleRecord,
          maxPendingBatches: PENDING_BATCHES_PER_INVOCATION,
          signal: request.signal,
          buffers: mainThreadModel.buffers,
        },
        bodyIdleTimeoutMs,
        this.log,
      );
      return { inputType, contentType, admissionMs, release, output: answer, stats, thread: "main" };
    }
    let remote: RemoteInvocation | SplitInvocation;
    try {
      const codecs = await (this.#codecs as Promise<CodecThreadPool>);
      const job: InvocationJob = {
        contentCodings,
        maxDecompressionRatio: this.config.maxDecompressionRatio,
        input: input.mediaType,
        output: output.mediaType,
        batchRows,
        maxBodyBytes: limit,
        recordErrorPolicy: this.config.recordErrorPolicy,
        singleRecord,
      };
      const checked = { input, output, declared };
      const scanner = bodyPartsScanner(
        this.registry,
        job,
        checked,
        signature,
        this.config.partBytes,
        codecs.idleThreads(),
      );
      remote = scanner
        ? invokeInParts(codecs, job, request.body, request.signal, bodyIdleTimeoutMs, scanner, this.config.partBytes)
        : codecs.invoke(job, request.body, request.signal, bodyIdleTimeoutMs);
    } catch (error) {
      release();
      throw error;
    }
    return {
      inputType,
      contentType,
      admissionMs,
      release,
      output: remote.output,
      get stats() {
        return remote.stats;
      },
      thread: "codec",
    };
  }

  /** Stops the codec threads and releases the model. */
  async close(): Promise<void> {
    this.#closed = true;
    const codecs = await this.#codecs?.catch(() => undefined);
    await codecs?.close();
    await this.#mainThreadModel?.close();
    await this.#inference?.close();
  }
}
