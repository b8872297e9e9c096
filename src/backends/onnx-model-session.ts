/**
 * The ONNX Runtime session the CPU and WebGPU backends share: reading the model's signature, running
 * batches on it one at a time, and turning staged batches into tensors and back. One session per model,
 * so the weights are in memory once.
 */
import ort from "onnxruntime-node";
import pLimit, { type LimitFunction } from "p-limit";
import type { InputBatch } from "../batcher.js";
import type { OutputTensor } from "../codec/record-codec.js";
import { ConfigError, ModelExecutionError } from "../errors.js";
import { type DimensionSizes, MODEL_CONFIG_FILE } from "../model/model-config.js";
import { type PreparedModel, prepareModel } from "../model/prepare-model.js";
import type {
  ElementType,
  InputArray,
  ModelSignature,
  NumericArray,
  OutputValues,
  TensorSpec,
} from "../model/signature.js";
import type { BatchAnswer } from "./backend.js";
import { answerAroundFailures, firstFailingRow } from "./failing-records.js";
import { fromFloat16Bits, toFloat16Bits } from "./float16.js";
import { toInt64s, toUint64s } from "./int64.js";

const SUPPORTED_TYPES = new Set<string>([
  "float32",
  "float16",
  "float64",
  "int32",
  "int64",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "uint32",
  "uint64",
  "bool",
  "string",
]);

/** A dimension's size: its own, else the size `dimensions` gives its name; undefined when dynamic. */
function sizeOf(dim: number | string | undefined, dimensions: DimensionSizes | undefined): number | undefined {
  if (typeof dim === "number") return dim >= 0 ? dim : undefined;
  return dim === undefined ? undefined : dimensions?.[dim];
}

function tensorSpec(
  meta: ort.InferenceSession.ValueMetadata,
  role: "input" | "output",
  model: PreparedModel,
  dimensions: DimensionSizes | undefined,
): { spec: TensorSpec; batchAxis: number | undefined } {
  if (!meta.isTensor) {
    const kind = model.outputKinds.get(meta.name) ?? "not a tensor";
    throw new ConfigError(
      `model ${role} "${meta.name}" is a ${kind}; Sluice feeds and reads tensors (and unwraps ZipMap's sequence of maps)`,
    );
  }
  if (!SUPPORTED_TYPES.has(meta.type)) {
    throw new ConfigError(`model ${role} "${meta.name}" has element type ${meta.type}, which Sluice does not support`);
  }
  const shape = meta.shape;
  if (shape.length === 0)
    throw new ConfigError(`model ${role} "${meta.name}" is a scalar; it needs a leading batch axis`);
  const recordShape: number[] = [];
  for (let axis = 1; axis < shape.length; axis++) {
    const size = sizeOf(shape[axis], dimensions);
    if (size === undefined) {
      // An output's values per record are counted from each batch's answer.
      if (role === "output") {
        recordShape.length = 0;
        break;
      }
      const name = typeof shape[axis] === "string" ? (shape[axis] as string) : undefined;
      throw new ConfigError(
        `model input "${meta.name}" has a dynamic dimension at axis ${axis}${name ? ` ("${name}")` : ""}; only the batch axis may be dynamic: ${
          name
            ? `give it a size in ${MODEL_CONFIG_FILE}, e.g. {"dimensions": {${JSON.stringify(name)}: 128}}, or SLUICE_DIMENSIONS=${name}=128`
            : "export the model with a fixed size there"
        }`,
      );
    }
    recordShape.push(size);
  }
  const width = recordShape.reduce((a, b) => a * b, 1);
  const batchDim = sizeOf(shape[0], dimensions);
  const type = meta.type as ElementType;
  const mapKeys = role === "output" ? model.mapKeys.get(meta.name) : undefined;
  const acceptsMissing = role === "input" && model.readsMissingValues && type.startsWith("float") ? true : undefined;
  const absentIsMissing = acceptsMissing && model.sparseAbsentIsMissing ? true : undefined;
  return {
    spec: {
      name: meta.name,
      type,
      recordShape,
      width,
      ...(mapKeys && { mapKeys }),
      ...(acceptsMissing && { acceptsMissing }),
      ...(absentIsMissing && { absentIsMissing }),
    },
    batchAxis: batchDim !== undefined && batchDim > 0 ? batchDim : undefined,
  };
}

/** ONNX's numbers of the element types ONNX Runtime for Node cannot hand to JavaScript. */
const UNREADABLE_TYPES: Readonly<Record<string, string>> = {
  "14": "complex64",
  "15": "complex128",
  "16": "bfloat16",
  "17": "float8e4m3fn",
  "18": "float8e4m3fnuz",
  "19": "float8e5m2",
  "20": "float8e5m2fnuz",
  "21": "uint4",
  "22": "int4",
  "23": "float4e2m1",
};

/**
 * Why a model did not load, as a `ConfigError`: a type ONNX Runtime for Node cannot hand over named (it
 * says only `Unsupported data type: 16`), else in ONNX Runtime's words.
 */
function loadError(cause: unknown): ConfigError {
  if (cause instanceof ConfigError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  const number = /^Unsupported data type: (\d+)$/.exec(message)?.[1];
  if (number === undefined) return new ConfigError(`ONNX Runtime cannot load the model: ${message}`);
  return new ConfigError(
    `a model input or output has element type ${UNREADABLE_TYPES[number] ?? `number ${number}`}, which ONNX Runtime for Node cannot hand to JavaScript; Sluice supports ${[...SUPPORTED_TYPES].join(", ")}`,
  );
}

/**
 * Reads a session's inputs and outputs as a {@link ModelSignature}, with what `model`'s preparation found
 * and the sizes `dimensions` gives named dimensions. A name there that no input or output has is a
 * `ConfigError`: a misspelt name would otherwise leave the dimension dynamic without a word.
 */
export function signatureOf(
  session: ort.InferenceSession,
  model: PreparedModel,
  dimensions?: DimensionSizes,
): ModelSignature {
  const metadata = [...session.inputMetadata, ...session.outputMetadata];
  const named = new Set(
    metadata.flatMap((meta) => (meta.isTensor ? meta.shape : [])).filter((dim) => typeof dim === "string"),
  );
  const unknown = Object.keys(dimensions ?? {}).filter((name) => !named.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `sizes are given (SLUICE_DIMENSIONS or ${MODEL_CONFIG_FILE}'s "dimensions") for dimension(s) ${unknown.join(", ")}, which the model's inputs and outputs do not have (their named dimensions: ${[...named].join(", ") || "none"})`,
    );
  }
  let maxBatchRows = Number.POSITIVE_INFINITY;
  const inputs = session.inputMetadata.map((meta) => {
    const { spec, batchAxis } = tensorSpec(meta, "input", model, dimensions);
    if (batchAxis !== undefined) maxBatchRows = Math.min(maxBatchRows, batchAxis);
    return spec;
  });
  const outputs = session.outputMetadata.map((meta) => tensorSpec(meta, "output", model, dimensions).spec);
  if (inputs.length === 0) throw new ConfigError("the model has no inputs");
  return { inputs, outputs, maxBatchRows };
}

function feedTensor(spec: TensorSpec, staged: InputArray, firstRow: number, rows: number): ort.Tensor {
  const dims = [rows, ...spec.recordShape];
  const start = firstRow * spec.width;
  const end = start + rows * spec.width;
  if (Array.isArray(staged)) return new ort.Tensor("string", staged.slice(start, end), dims);
  const values = staged.subarray(start, end);
  // 64-bit integers and uint32 are staged as doubles, every value checked to be an integer of the type.
  if (spec.type === "int64") return new ort.Tensor("int64", toInt64s(values), dims);
  if (spec.type === "uint64") return new ort.Tensor("uint64", toUint64s(values), dims);
  if (spec.type === "uint32") return new ort.Tensor("uint32", Uint32Array.from(values), dims);
  if (spec.type === "float16") return new ort.Tensor("float16", toFloat16Bits(values as Float32Array), dims);
  return new ort.Tensor(spec.type, values as Exclude<NumericArray, Uint16Array>, dims);
}

/**
 * An output tensor's values as codecs read them: halves widened to float32, uint32 widened to int64 (no
 * encoder takes a `Uint32Array` for integers: the float32 printer reads one as IEEE bits), the rest as
 * they are.
 */
function outputValues(spec: TensorSpec, tensor: ort.Tensor): OutputValues {
  if (spec.type === "uint32") return toInt64s(tensor.data as Uint32Array);
  if (spec.type !== "float16") return tensor.data as OutputValues;
  const data: unknown = tensor.data;
  // Bits where there is no Float16Array (Node 20), values where there is.
  return data instanceof Uint16Array ? fromFloat16Bits(data) : Float32Array.from(data as ArrayLike<number>);
}

/** Runs that log only fatal errors. */
const QUIET_RUN: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

/** A model to load: its file, and sizes for its named dynamic dimensions (`dimensions` in `sluice.json`). */
export interface ModelFile {
  readonly modelPath: string;
  readonly dimensions?: DimensionSizes;
}

/** Options for {@link OnnxModelSession.create}. */
export interface ModelSessionOptions extends ModelFile {
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
}

/**
 * One session over one model. Its runs go one at a time, in the order asked for, so that a batch still
 * waiting when its invocation is cancelled never runs, and the search for a failing record has the session
 * to itself.
 */
export class OnnxModelSession {
  readonly #session: ort.InferenceSession;
  readonly #limit: LimitFunction = pLimit(1);

  private constructor(
    session: ort.InferenceSession,
    readonly signature: ModelSignature,
    /** What the model file was and what preparing it did, for the start-up log. */
    readonly format: string,
  ) {
    this.#session = session;
  }

  /**
   * Prepares the model (see `prepare-model.ts`) and loads it. A model ONNX Runtime refuses, or one with a
   * tensor type Sluice cannot stage, is a `ConfigError` in ONNX Runtime's words, not an internal error.
   */
  static async create(options: ModelSessionOptions): Promise<OnnxModelSession> {
    const model = prepareModel(options.modelPath);
    let session: ort.InferenceSession;
    try {
      session =
        typeof model.source === "string"
          ? await ort.InferenceSession.create(model.source, options.sessionOptions)
          : await ort.InferenceSession.create(model.source, options.sessionOptions);
    } catch (cause) {
      throw loadError(cause);
    }
    try {
      return new OnnxModelSession(session, signatureOf(session, model, options.dimensions), model.format);
    } catch (cause) {
      await session.release();
      throw loadError(cause);
    }
  }

  /** Runs a batch once the runs asked for before it have ended. */
  run(batch: InputBatch, signal?: AbortSignal): Promise<BatchAnswer> {
    return this.#inTurn(() => this.#runOn(batch, signal), signal);
  }

  /**
   * Runs a batch with ONNX Runtime's logging off and no search for the failing record: for a trial run
   * (see `intra-op-threads.ts`) whose failure is no record's fault.
   */
  runQuietly(batch: InputBatch): Promise<void> {
    return this.#inTurn(async () => {
      await this.#runRows(batch, 0, batch.rows, QUIET_RUN);
    });
  }

  #inTurn<T>(use: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#limit(async () => {
      signal?.throwIfAborted();
      return use();
    });
  }

  /** Runs rows `[firstRow, firstRow + rows)` of `batch`; a part of a failed batch runs quietly. */
  async #runRows(
    batch: InputBatch,
    firstRow: number,
    rows: number,
    runOptions: ort.InferenceSession.RunOptions = {},
  ): Promise<OutputTensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    this.signature.inputs.forEach((spec, i) => {
      feeds[spec.name] = feedTensor(spec, batch.inputs[i], firstRow, rows);
    });
    const results = await this.#session.run(feeds, runOptions);
    return this.signature.outputs.map((spec) => {
      const tensor = results[spec.name];
      if (tensor.dims.length === 0 || tensor.dims[0] !== rows) {
        throw new ModelExecutionError(
          `output "${spec.name}" has shape [${tensor.dims.join(", ")}]; expected ${rows} records along the first axis`,
          batch.firstRecordIndex + firstRow,
          rows,
        );
      }
      const width = rows === 0 ? 0 : tensor.size / rows;
      return { spec, width, data: outputValues(spec, tensor) };
    });
  }

  async #runOn(batch: InputBatch, signal?: AbortSignal): Promise<BatchAnswer> {
    try {
      return { outputs: await this.#runRows(batch, 0, batch.rows) };
    } catch (batchCause) {
      if (batchCause instanceof ModelExecutionError || batch.rows < 2) throw this.#failure(batch, batchCause);
      // ONNX Runtime has already logged the batch's failure; its parts' would only repeat it.
      const runPart = (firstRow: number, rows: number) => this.#runRows(batch, firstRow, rows, QUIET_RUN);
      if (batch.isolateFailures) {
        const answered = await answerAroundFailures(batch.rows, runPart, signal);
        if (answered) return answered;
        throw this.#failure(batch, batchCause);
      }
      // Name the record, not just the batch: the operator needs to find it among millions.
      const failing = await firstFailingRow(batch.rows, runPart, signal);
      throw this.#failure(batch, failing?.cause ?? batchCause, failing?.row);
    }
  }

  #failure(batch: InputBatch, cause: unknown, row?: number): ModelExecutionError {
    if (cause instanceof ModelExecutionError) return cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const recordIndex = row === undefined ? undefined : batch.firstRecordIndex + row;
    const where = recordIndex === undefined ? "" : ` on record ${recordIndex}`;
    return new ModelExecutionError(`the model failed${where}: ${reason}`, batch.firstRecordIndex, batch.rows, {
      cause,
      recordIndex,
    });
  }

  /** Releases the session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}
