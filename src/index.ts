/**
 * The public API of Sluice: what a codec plugin (or an embedding program) may import. Built-in codecs
 * in `codecs/` use nothing else.
 */
import "./telemetry.js";

export type { Backend, BackendTuning } from "./backends/backend.js";
export type { InputBatch } from "./batcher.js";
export {
  CODEC_API_VERSION,
  type Codec,
  type CodecContext,
  type CodecSetting,
  type InputFormat,
  type OutputFormat,
} from "./codec/codec.js";
export { copyBytes } from "./codec/copy-bytes.js";
export { Frame, type Framer, type FrameSink, type RecordBoundaryScanner } from "./codec/framing.js";
export { type MediaType, negotiateMediaType, parseMediaType } from "./codec/media-type.js";
export {
  type CodecPluginModule,
  createCodecRegistry,
  loadCodecPlugins,
  type PluginSources,
  settingVariable,
} from "./codec/plugin-loader.js";
export type {
  EncodeSummary,
  OutputBatch,
  OutputTensor,
  RecordDecoder,
  RecordEncoder,
  RecordSink,
  RecordSlots,
} from "./codec/record-codec.js";
export { CodecRegistry, type NegotiatedFormat, type RegisteredCodec } from "./codec/registry.js";
export {
  ClientClosedRequestError,
  ConfigError,
  DuplicateCodecError,
  excerpt,
  FramingError,
  ModelExecutionError,
  ModelUnavailableError,
  NotAcceptableError,
  OverloadedError,
  PayloadTooLargeError,
  RecordError,
  type RecordLocation,
  SluiceError,
  UnsupportedMediaTypeError,
} from "./errors.js";
export {
  describeIntegerType,
  type ElementType,
  type InputArray,
  type Int32RangeArray,
  type IntegerRange,
  integerRange,
  isInt32RangeArray,
  isIntegerIn,
  isTextTensor,
  type ModelSignature,
  type NumericArray,
  type OutputValues,
  type TensorSpec,
  type TextArray,
  totalInputWidth,
} from "./model/signature.js";
