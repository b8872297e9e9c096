/**
 * The codec plugin interface: what a format (built in or third party) implements to be served.
 * A codec pairs a framing with a record decoder for input, and/or supplies an encoder for output.
 */
import type { ModelSignature } from "../model/signature.js";
import type { Framer } from "./framing.js";
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
  /** Codec settings from the configuration (e.g. `csvHeader: "present"`), keyed by setting name. */
  readonly settings: Readonly<Record<string, string>>;
}

/** How a codec reads a body. */
export interface InputFormat {
  /** A fresh framer for one request body. */
  createFramer(context: CodecContext): Framer;
  /** A fresh record decoder for one request body. */
  createDecoder(context: CodecContext): RecordDecoder;
}

/** How a codec writes a response. */
export interface OutputFormat {
  /** A fresh encoder for one response. */
  createEncoder(context: CodecContext): RecordEncoder;
}

/**
 * A codec, registered under one or more media types.
 *
 * @example
 * ```ts
 * import { type Codec, CodecRegistry } from "sluice";
 * const myCodec: Codec = { name: "my-format", mediaTypes: ["application/x-my-format"], input: { createFramer, createDecoder } };
 * registry.register(myCodec);
 * ```
 */
export interface Codec {
  /** A short, unique name used in logs and errors. */
  readonly name: string;
  /** Media types served, lower case, without parameters; the first is the one answers are labelled with. */
  readonly mediaTypes: readonly string[];
  /**
   * File extensions (with the dot: `.npy`) whose files this codec reads: `sluice transform` guesses a
   * file's media type from them when `--content-type` is not given.
   */
  readonly extensions?: readonly string[];
  /** Present when the codec can read request bodies. */
  readonly input?: InputFormat;
  /** Present when the codec can write responses. */
  readonly output?: OutputFormat;
}
