/**
 * The codec registry: built-in and plugin codecs register here under their media types, and each
 * request's Content-Type and Accept are resolved against it.
 */
import { DuplicateCodecError, excerpt, NotAcceptableError, UnsupportedMediaTypeError } from "../errors.js";
import { isTextTensor, type ModelSignature } from "../model/signature.js";
import type { Codec, InputFormat, OutputFormat } from "./codec.js";
import { type MediaType, negotiateMediaType, parseMediaType } from "./media-type.js";

/** A codec chosen for a request, with the media type (and parameters) it was chosen by. */
export interface NegotiatedFormat<F> {
  readonly codec: Codec;
  readonly format: F;
  readonly mediaType: MediaType;
  /** The codec's settings, defaults filled in. */
  readonly settings: Readonly<Record<string, string>>;
}

/** How a codec came to be registered. */
export interface RegistrationOptions {
  /** Marks the codec as built in: later registrations may take its media types. */
  readonly builtIn?: boolean;
  /** Where it came from, for `sluice codecs` and logs: `built-in`, or the plugin's module. */
  readonly origin?: string;
  /** Its settings, defaults filled in. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** A registered codec with where it came from and its settings. */
export interface RegisteredCodec {
  readonly codec: Codec;
  readonly origin: string;
  readonly settings: Readonly<Record<string, string>>;
}

/** Holds the installed codecs and negotiates formats for requests. */
export class CodecRegistry {
  readonly #byMediaType = new Map<string, Codec>();
  readonly #registered: RegisteredCodec[] = [];
  readonly #builtIn = new Set<Codec>();
  readonly #settings = new Map<Codec, Readonly<Record<string, string>>>();
  /**
   * Negotiations already made, by header text: a job sends the same few headers on every request, and
   * parsing and ranking them again cost a twentieth of a one-record invocation's main-thread time.
   */
  readonly #inputsByHeader = new Map<string, NegotiatedFormat<InputFormat>>();
  readonly #outputsByHeaders = new Map<string, NegotiatedFormat<OutputFormat>>();

  /**
   * Registers a codec. A media type already taken by a built-in codec passes to the new codec (so a
   * plugin may replace a built-in format); one taken by any other codec throws `DuplicateCodecError`.
   */
  register(codec: Codec, options: RegistrationOptions = {}): this {
    for (const type of codec.mediaTypes) {
      const existing = this.#byMediaType.get(type.toLowerCase());
      if (existing && !this.#builtIn.has(existing)) throw new DuplicateCodecError(type, existing.name, codec.name);
    }
    for (const type of codec.mediaTypes) this.#byMediaType.set(type.toLowerCase(), codec);
    this.#inputsByHeader.clear();
    this.#outputsByHeaders.clear();
    if (options.builtIn) this.#builtIn.add(codec);
    const settings = options.settings ?? {};
    this.#settings.set(codec, settings);
    this.#registered.push({ codec, origin: options.origin ?? (options.builtIn ? "built-in" : "plugin"), settings });
    return this;
  }

  /** Every registered codec, in registration order. */
  get codecs(): readonly Codec[] {
    return this.#registered.map((entry) => entry.codec);
  }

  /** Every registered codec with its origin and settings, in registration order. */
  get registered(): readonly RegisteredCodec[] {
    return this.#registered;
  }

  /** Whether `codec` ships with Sluice (a plugin's code is not trusted to run on the main thread). */
  isBuiltIn(codec: Codec): boolean {
    return this.#builtIn.has(codec);
  }

  #settingsOf(codec: Codec): Readonly<Record<string, string>> {
    return this.#settings.get(codec) ?? {};
  }

  /** Media types that can be read. */
  inputMediaTypes(): string[] {
    return this.#served((codec) => codec.input !== undefined);
  }

  /** Media types that can be written. */
  outputMediaTypes(): string[] {
    return this.#served((codec) => codec.output !== undefined);
  }

  #served(can: (codec: Codec) => boolean): string[] {
    return [...this.#byMediaType].filter(([, codec]) => can(codec)).map(([type]) => type);
  }

  /**
   * The input and output formats already negotiated (by {@link resolveInput} / {@link resolveOutput}, on
   * another thread with the same codecs): looked up by essence, parameters kept.
   */
  resolveNegotiated(
    input: MediaType,
    output: MediaType,
  ): { input: NegotiatedFormat<InputFormat>; output: NegotiatedFormat<OutputFormat> } {
    const reader = this.#byMediaType.get(input.essence);
    const writer = this.#byMediaType.get(output.essence);
    if (!reader?.input)
      throw new UnsupportedMediaTypeError(`no installed codec reads ${input.essence}`, this.inputMediaTypes());
    if (!writer?.output) throw new NotAcceptableError(output.essence, this.outputMediaTypes());
    return {
      input: { codec: reader, format: reader.input, mediaType: input, settings: this.#settingsOf(reader) },
      output: { codec: writer, format: writer.output, mediaType: output, settings: this.#settingsOf(writer) },
    };
  }

  /**
   * Refuses formats that cannot carry the model's strings: an input format without `textInputs` for a
   * model with string inputs (415), an output format without `textOutputs` for one with string outputs
   * (406). Each error names the tensor and the formats that can.
   */
  checkTextSupport(
    signature: ModelSignature,
    input: NegotiatedFormat<InputFormat>,
    output: NegotiatedFormat<OutputFormat>,
  ): void {
    const textInput = signature.inputs.find(isTextTensor);
    if (textInput !== undefined && !input.format.textInputs) {
      const readers = this.#served((codec) => codec.input?.textInputs === true);
      throw new UnsupportedMediaTypeError(
        `codec ${input.codec.name} (${input.mediaType.essence}) cannot read text, and model input ` +
          `${JSON.stringify(textInput.name)} takes strings; send one of: ${readers.join(", ")}`,
        readers,
        "TEXT_INPUT_UNSUPPORTED",
      );
    }
    const textOutput = signature.outputs.find(isTextTensor);
    if (textOutput !== undefined && !output.format.textOutputs) {
      throw new NotAcceptableError(
        output.mediaType.essence,
        this.#served((codec) => codec.output?.textOutputs === true),
        `codec ${output.codec.name} cannot write text, and model output ${JSON.stringify(textOutput.name)} is strings`,
      );
    }
  }

  /** Finds the codec that reads `contentType`; throws `UnsupportedMediaTypeError` (415) when none does. */
  resolveInput(contentType: string | undefined): NegotiatedFormat<InputFormat> {
    if (contentType === undefined || contentType.trim() === "") {
      throw new UnsupportedMediaTypeError(
        "the request has no Content-Type; name the input format",
        this.inputMediaTypes(),
        "CONTENT_TYPE_MISSING",
      );
    }
    const known = this.#inputsByHeader.get(contentType);
    if (known) return known;
    const mediaType = parseMediaType(contentType);
    const codec = mediaType && this.#byMediaType.get(mediaType.essence);
    if (!mediaType || !codec?.input) {
      throw new UnsupportedMediaTypeError(`no installed codec reads ${excerpt(contentType)}`, this.inputMediaTypes());
    }
    // A parameter named after a setting overrides it for this body: it gets the same check, so that a
    // typo (`header=yes`) is refused rather than read as the default.
    for (const [name, value] of Object.entries(mediaType.params)) {
      const allowed = codec.settings?.[name]?.allowed;
      if (allowed && !allowed.includes(value)) {
        throw new UnsupportedMediaTypeError(
          `Content-Type parameter ${name}=${excerpt(value)} is not one of ${allowed.join(", ")} (codec ${codec.name})`,
          this.inputMediaTypes(),
          "MEDIA_TYPE_PARAMETER_NOT_ALLOWED",
        );
      }
    }
    return remember(this.#inputsByHeader, contentType, {
      codec,
      format: codec.input,
      mediaType,
      settings: this.#settingsOf(codec),
    });
  }

  /**
   * Chooses the output codec for an Accept header. `*∕*` (or no Accept) answers in `preferred` when
   * given (the model's configured default), else in the input's format when it can carry output, else
   * in the first registered format that can (the built-in codecs register JSON first, the contract's
   * default); `q=0` excludes a type even under a wildcard. Throws
   * `NotAcceptableError` (406).
   */
  resolveOutput(
    accept: string | undefined,
    input: NegotiatedFormat<InputFormat>,
    preferred?: string,
  ): NegotiatedFormat<OutputFormat> {
    // Undefined and empty headers are told apart by a character no header holds.
    const key = `${accept ?? "\0"}\n${input.mediaType.essence}\n${preferred ?? "\0"}`;
    const known = this.#outputsByHeaders.get(key);
    if (known) return known;
    const ranked: string[] = [];
    const preferredEssence = preferred === undefined ? undefined : parseMediaType(preferred)?.essence;
    if (preferredEssence && this.#byMediaType.get(preferredEssence)?.output) ranked.push(preferredEssence);
    if (input.codec.output) ranked.push(input.codec.mediaTypes[0].toLowerCase());
    ranked.push(...this.outputMediaTypes());
    const available = [...new Set(ranked)].filter((type) => this.#byMediaType.get(type)?.output);
    const chosen = negotiateMediaType(accept, available);
    const codec = chosen && this.#byMediaType.get(chosen.essence);
    if (!chosen || !codec?.output) throw new NotAcceptableError(accept ?? "", this.outputMediaTypes());
    return remember(this.#outputsByHeaders, key, {
      codec,
      format: codec.output,
      mediaType: chosen,
      settings: this.#settingsOf(codec),
    });
  }
}

/** Negotiations remembered at most: a client that varies its headers endlessly must not grow the server. */
const MAX_REMEMBERED = 256;

function remember<T>(known: Map<string, T>, key: string, value: T): T {
  if (known.size >= MAX_REMEMBERED) known.clear();
  known.set(key, value);
  return value;
}
