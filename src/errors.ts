/**
 * Every error Sluice reports, each with its HTTP status and a stable `code`. The server maps them to
 * responses in one place (`http-routes.ts`); codecs and plugins throw the record-level ones.
 */

/** Where in a request body a problem was found. All fields are zero-based except `line` (one-based). */
export interface RecordLocation {
  /** Index of the record in the body, counting from 0. */
  recordIndex?: number;
  /** Line number in a text body, counting from 1. */
  line?: number;
  /** Byte offset of the record (or of the fault) from the start of the body. */
  byteOffset?: number;
}

/** The longest piece of client data an error message quotes, in characters. */
export const MAX_EXCERPT_CHARS = 200;
/** The longest error message sent or logged; a backstop for messages that quote several values. */
export const MAX_MESSAGE_CHARS = 2000;

/**
 * `value` (client data: a field, a feature name, a header) quoted as JSON for an error message, cut to
 * {@link MAX_EXCERPT_CHARS} characters with a note of how much was left out, so that an error never
 * echoes a megabyte back to the client or into a log line.
 */
export function excerpt(value: string, max = MAX_EXCERPT_CHARS): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}… (${value.length - max} more characters)`;
}

function capped(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS
    ? message
    : `${message.slice(0, MAX_MESSAGE_CHARS)}… (${message.length - MAX_MESSAGE_CHARS} more characters)`;
}

/** Where an error carries the names of its Sluice classes (shared by every copy of Sluice in a process). */
const CLASSES = Symbol.for("sluice.error.classes");

/**
 * The base class: an error that knows the HTTP status and the stable code it is reported with.
 *
 * `instanceof` works across copies of Sluice: a plugin that bundles or resolves its own copy of the
 * package throws errors the server still recognises (`error instanceof RecordError` checks the class
 * names the error carries, not only the prototype chain of this copy).
 */
export abstract class SluiceError extends Error {
  /** HTTP status the server answers with. */
  abstract readonly status: number;
  /** Stable, machine-readable code (tests and clients compare this, never the message). */
  readonly code: string;
  /** The names of this error's Sluice classes, most derived first. */
  readonly [CLASSES]: readonly string[];

  /**
   * Whether an instance records the stack it was made on. An error about the client's data (a bad record)
   * does not: it is an expected answer, never logged with a stack, and it can come once per record, where
   * capturing a stack was most of what a body of bad records cost under the placeholder policy.
   */
  static readonly capturesStack: boolean = true;

  constructor(code: string, message: string, options?: ErrorOptions) {
    const stackTraceLimit = Error.stackTraceLimit;
    if (!(new.target as typeof SluiceError).capturesStack) Error.stackTraceLimit = 0;
    super(capped(message), options);
    Error.stackTraceLimit = stackTraceLimit;
    this.code = code;
    this.name = new.target.name;
    const classes: string[] = [];
    for (let c: unknown = new.target; typeof c === "function" && c !== Error; c = Object.getPrototypeOf(c)) {
      classes.push((c as { name: string }).name);
    }
    this[CLASSES] = classes;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const classes = (value as { [CLASSES]?: unknown } | null)?.[CLASSES];
    // `this` is the class on the right of `instanceof` (subclasses inherit this method): that is the point.
    // (biome.json turns noThisInStatic off for this file for this reason.)
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (Array.isArray(classes) && classes.includes(this.name))
    );
  }

  /** Extra fields for the JSON error body. */
  details(): Record<string, unknown> {
    return {};
  }
}

/**
 * One record cannot be decoded or does not fit the model (400). The stream itself is intact: the records
 * after it can still be read, so a placeholder policy may answer this record and go on.
 */
export class RecordError extends SluiceError {
  static override readonly capturesStack = false;
  readonly status = 400;
  /** Where the record is; the pipeline fills in `recordIndex` when a codec leaves it out. */
  location: RecordLocation;

  constructor(code: string, message: string, location: RecordLocation = {}, options?: ErrorOptions) {
    super(code, message, options);
    this.location = { ...location };
  }

  override details(): Record<string, unknown> {
    return { ...this.location };
  }
}

/**
 * The byte stream cannot be split into records from here on (400): a bad frame header, a broken
 * checksum on a length, a truncated final frame. Nothing after it can be trusted, so no placeholder
 * can stand in for it.
 */
export class FramingError extends RecordError {}

/** The request body is larger than `SAGEMAKER_MAX_PAYLOAD_IN_MB` (413). */
export class PayloadTooLargeError extends SluiceError {
  readonly status = 413;
  constructor(readonly limitBytes: number) {
    super("PAYLOAD_TOO_LARGE", `request body exceeds the ${limitBytes}-byte limit (SAGEMAKER_MAX_PAYLOAD_IN_MB)`);
  }
  override details() {
    return { limitBytes: this.limitBytes };
  }
}

/** No installed codec decodes the request's Content-Type (415). */
export class UnsupportedMediaTypeError extends SluiceError {
  readonly status = 415;
  constructor(
    message: string,
    readonly supported: readonly string[],
    code = "UNSUPPORTED_MEDIA_TYPE",
  ) {
    super(code, message);
  }
  override details() {
    return { supported: this.supported };
  }
}

/** No installed codec can encode the output in a format the Accept header allows (406). */
export class NotAcceptableError extends SluiceError {
  readonly status = 406;
  constructor(
    readonly accept: string,
    readonly supported: readonly string[],
    reason?: string,
  ) {
    super(
      "NOT_ACCEPTABLE",
      reason === undefined
        ? `no output format matches Accept: ${excerpt(accept)}`
        : `${reason}; accept one of: ${supported.join(", ")}`,
    );
  }
  override details() {
    return { supported: this.supported };
  }
}

/** The model is still loading or failed to load (503). */
export class ModelUnavailableError extends SluiceError {
  readonly status = 503;
  constructor(message: string, code = "MODEL_NOT_READY") {
    super(code, message);
  }
}

/** Too many invocations are open or queued (503 with Retry-After). */
export class OverloadedError extends SluiceError {
  readonly status = 503;
  constructor(readonly retryAfterSeconds: number) {
    super("OVERLOADED", "too many concurrent invocations; retry later");
  }
}

/**
 * The client went away before the answer was complete (logged as 499, nginx's "client closed request";
 * no response reaches anyone).
 */
export class ClientClosedRequestError extends SluiceError {
  readonly status = 499;
  constructor() {
    super("CLIENT_CLOSED_REQUEST", "the client closed the connection before the answer was complete");
  }
}

/**
 * The body's own framing broke mid-way (400): a chunked body with a malformed chunk size or a chunk not
 * ended by CRLF. What came before it was read; nothing after it can be, so the connection closes after
 * the answer.
 */
export class MalformedBodyError extends SluiceError {
  readonly status = 400;
  /**
   * @param reason Node's HTTP parser's message (`Parse Error: Invalid character in chunk size`).
   * @param parserCode Its code (`HPE_INVALID_CHUNK_SIZE`).
   */
  constructor(reason: string, parserCode: string) {
    super("MALFORMED_REQUEST", `the request body could not be read: ${reason} (${parserCode})`);
  }
}

/** Why a request body could not be read to its end: its framing broke, or else the client went away. */
export function bodyReadFailure(error: unknown): MalformedBodyError | ClientClosedRequestError {
  return error instanceof MalformedBodyError ? error : new ClientClosedRequestError();
}

/**
 * The model failed on input that decoded correctly (500): on the batch `[firstRecordIndex,
 * firstRecordIndex + recordCount)`, and, when one record fails alone, on `recordIndex`.
 */
export class ModelExecutionError extends SluiceError {
  readonly status = 500;
  readonly recordIndex: number | undefined;
  constructor(
    message: string,
    readonly firstRecordIndex: number,
    readonly recordCount: number,
    options?: ErrorOptions & { recordIndex?: number },
  ) {
    super("MODEL_EXECUTION_FAILED", message, options);
    this.recordIndex = options?.recordIndex;
  }
  override details() {
    return { recordIndex: this.recordIndex, firstRecordIndex: this.firstRecordIndex, recordCount: this.recordCount };
  }
}

/**
 * A thread running an invocation's work died (500): its codec thread, or the inference thread while one
 * of its batches ran. The thread is replaced, and the server goes on.
 */
export class WorkerCrashedError extends SluiceError {
  readonly status = 500;
  constructor(reason: string, thread: "codec" | "inference" = "codec") {
    super("WORKER_CRASHED", `the ${thread} thread running this invocation stopped: ${reason}`);
  }
}

/** A configuration value (environment variable, flag or model directory) is invalid; fatal at start-up. */
export class ConfigError extends SluiceError {
  readonly status = 500;
  constructor(message: string) {
    super("CONFIG_INVALID", message);
  }
}

/** A codec with the same media type is already registered. */
export class DuplicateCodecError extends SluiceError {
  readonly status = 500;
  constructor(mediaType: string, existing: string, incoming: string) {
    super("CODEC_ALREADY_REGISTERED", `media type ${mediaType} is claimed by codec "${existing}" and "${incoming}"`);
  }
}

/** No route matches the request (404). */
export class RouteNotFoundError extends SluiceError {
  readonly status = 404;
  /** `routes` are the server's, as `METHOD /path`. */
  constructor(method: string, path: string, routes: readonly string[]) {
    super("NOT_FOUND", `no route for ${method} ${path}; the routes are ${routes.join(", ")}`);
  }
}

/** A route that exists, asked with a method it does not answer (405); `allowed` goes in the `Allow` header. */
export class MethodNotAllowedError extends SluiceError {
  readonly status = 405;
  constructor(
    method: string,
    path: string,
    readonly allowed: readonly string[],
  ) {
    super("METHOD_NOT_ALLOWED", `${path} does not answer ${method}; it answers ${allowed.join(", ")}`);
  }

  override details(): Record<string, unknown> {
    return { allowed: this.allowed };
  }
}

/** The body's `Content-Encoding` is one Sluice cannot undo (415). */
export class UnsupportedContentEncodingError extends SluiceError {
  readonly status = 415;
  constructor(
    readonly encoding: string,
    readonly supported: readonly string[],
  ) {
    super("UNSUPPORTED_CONTENT_ENCODING", `Content-Encoding ${encoding} is not supported`);
  }
  override details() {
    return { supported: this.supported };
  }
}

/** The body does not decompress as its `Content-Encoding` says (400); nothing in it can be trusted. */
export class ContentDecodingError extends SluiceError {
  readonly status = 400;
  constructor(encoding: string, reason: string) {
    super("CONTENT_DECODING_FAILED", `the body is not valid ${encoding}: ${reason}`);
  }
}

/** A compressed body expands beyond `SLUICE_MAX_DECOMPRESSION_RATIO` times its size (413): a decompression bomb. */
export class DecompressionRatioError extends SluiceError {
  readonly status = 413;
  constructor(readonly maxRatio: number) {
    super(
      "DECOMPRESSION_RATIO_EXCEEDED",
      `the body expands more than ${maxRatio} times when decompressed (SLUICE_MAX_DECOMPRESSION_RATIO)`,
    );
  }
  override details() {
    return { maxRatio: this.maxRatio };
  }
}

/** No byte of the body arrived for `SLUICE_BODY_IDLE_TIMEOUT_S` (408): the invocation gives its slot up. */
export class BodyIdleTimeoutError extends SluiceError {
  readonly status = 408;
  constructor(readonly seconds: number) {
    super("BODY_IDLE_TIMEOUT", `no byte of the body arrived for ${seconds} s (SLUICE_BODY_IDLE_TIMEOUT_S)`);
  }
}
