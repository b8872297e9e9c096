/**
 * The codec plugin interface: what a format (built in or third party) implements to be served.
 * A codec pairs a framing with a record decoder for input, and/or supplies an encoder for output.
 *
 * This is version {@link CODEC_API_VERSION} of the plugin API. A codec declares the version it was
 * written for (`apiVersion`); Sluice refuses, at start-up and naming the plugin, one it does not serve.
 */
import type { ModelSignature } from "../model/signature.js";
import type { Framer, RecordBoundaryScanner } from "./framing.js";
import type { MediaType } from "./media-type.js";
import type { RecordDecoder, RecordEncoder } from "./record-codec.js";

/** What a codec is told about the request when it creates a framer, decoder or encoder. */
export interface CodecContext {
  /** The model's inputs and outputs. */
  readonly signature: ModelSignature;
  /** The negotiated media type, with its parameters (`header=present`, `charset=utf-8`, …). */
  readonly mediaType: MediaType;
  /** True when the platform sends one record per request (`SAGEMAKER_BATCH_STRATEGY=SINGLE_RECORD`). */
  readonly singleRecord: boolean;
  /**
   * This codec's settings (those it declares in {@link Codec.settings}), with their defaults filled in:
   * from `SLUICE_CODEC_<NAME>_<KEY>` or the `codecSettings` of `sluice.json`.
   */
  readonly settings: Readonly<Record<string, string>>;
}

/** The version of the codec plugin API this Sluice serves. */
export const CODEC_API_VERSION = 1;

/** A setting a codec takes (e.g. whether CSV bodies start with a header). */
export interface CodecSetting {
  /** What it means, for `sluice codecs` and errors. */
  readonly description: string;
  /** The value when none is given. */
  readonly default?: string;
  /**
   * The values allowed; any when absent. A Content-Type parameter of the same name (`text/csv;
   * header=present`), which the codec may read from `context.mediaType.params` to override the setting for
   * one body, is checked against them too: any other value is a `415`.
   */
  readonly allowed?: readonly string[];
}

/** How a codec reads a body. */
export interface InputFormat {
  /** A fresh framer for one request body. */
  createFramer(context: CodecContext): Framer;
  /** A fresh record decoder for one request body. */
  createDecoder(context: CodecContext): RecordDecoder;
  /**
   * True when the decoder fills string inputs (`RecordSlots.texts`). A model with string inputs is not
   * handed to a codec without it: such a request is refused with 415, naming the input.
   */
  readonly textInputs?: boolean;
  /**
   * A scanner for record ends, when a body cut at any record end is two bodies whose records, one after
   * the other, are the whole body's (no header, no enclosing document); undefined for a body that cannot
   * be cut (a CSV body with a header line). With it, and an output that {@link OutputFormat.concatenates},
   * a large body may be run as parts on several codec threads.
   */
  createBoundaryScanner?(context: CodecContext): RecordBoundaryScanner | undefined;
}

/** How a codec writes a response. */
export interface OutputFormat {
  /** A fresh encoder for one response. */
  createEncoder(context: CodecContext): RecordEncoder;
  /**
   * True when the encoder writes string outputs (`OutputTensor.data` as `string[]`). A model with string
   * outputs is not handed to an encoder without it: such a request is refused with 406, naming the output.
   */
  readonly textOutputs?: boolean;
  /**
   * True when the answers to two bodies, written one after the other, are the answer to the two bodies'
   * records together: the encoder writes nothing before the first record or after the last (CSV lines,
   * JSON lines, RecordIO frames; not one JSON document).
   */
  readonly concatenates?: boolean;
}

/**
 * A codec, registered under one or more media types.
 *
 * @example
 * ```ts
 * import { type Codec, CodecRegistry } from "sluice";
 * const myCodec: Codec = {
 *   apiVersion: 1,
 *   name: "my-format",
 *   mediaTypes: ["application/x-my-format"],
 *   input: { createFramer: () => new LineFramer(), createDecoder: (context) => new MyDecoder(context) },
 * };
 * export default myCodec;
 * ```
 */
export interface Codec {
  /** The plugin API version the codec was written for: {@link CODEC_API_VERSION}. */
  readonly apiVersion: number;
  /** A short, unique name used in logs, errors and setting names (`SLUICE_CODEC_<NAME>_<KEY>`). */
  readonly name: string;
  /** Media types served, lower case, without parameters; the first is the one answers are labelled with. */
  readonly mediaTypes: readonly string[];
  /**
   * File extensions (with the dot: `.npy`) whose files this codec reads: `sluice transform` guesses a
   * file's media type from them when `--content-type` is not given.
   */
  readonly extensions?: readonly string[];
  /** Settings the codec takes, by key. */
  readonly settings?: Readonly<Record<string, CodecSetting>>;
  /** Present when the codec can read request bodies. */
  readonly input?: InputFormat;
  /** Present when the codec can write responses. */
  readonly output?: OutputFormat;
}
