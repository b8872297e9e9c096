/**
 * The log as it leaves the process: one JSON object per line on standard output (pino), which CloudWatch
 * Logs Insights parses without configuration; or, on a terminal, one readable `time level message
 * key=value …` line. Field values are cut at {@link MAX_FIELD_CHARS} so a client's megabyte never becomes
 * a log event CloudWatch truncates. Lines leave through a {@link LogOutput}, which never blocks the event
 * loop.
 */
import pino from "pino";
import { type LogFields, type LogFormat, Logger, type LogLevel, type LogValue } from "./log.js";
import { LogOutput } from "./log-output.js";

/** Where formatted lines go (tests pass their own to capture them); standard output by default. */
export type LogSink = (line: string) => void;

/** Options of a {@link StreamLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped; `info` by default. */
  readonly level?: LogLevel;
  /** `json` by default, `pretty` when standard output is a terminal. */
  readonly format?: LogFormat;
  /** Receives each line (without its newline) instead of the output stream. */
  readonly sink?: LogSink;
  /** File descriptor written to: 1 (standard output, the default) or 2 (`sluice transform`, whose answer is on 1). */
  readonly fd?: 1 | 2;
}

/** The longest field value written; longer ones are cut with a note of how much was left out. */
export const MAX_FIELD_CHARS = 500;

function cut(value: LogValue): LogValue {
  if (typeof value === "string") {
    return value.length <= MAX_FIELD_CHARS
      ? value
      : `${value.slice(0, MAX_FIELD_CHARS)}… (${value.length - MAX_FIELD_CHARS} more characters)`;
  }
  if (typeof value === "object") {
    const nested: Record<string, LogValue> = {};
    for (const key in value) nested[key] = cut(value[key]);
    return nested;
  }
  return value;
}

/** Whether `value` is, or holds, a string that {@link cut} shortens. */
function tooLong(value: LogValue): boolean {
  if (typeof value === "string") return value.length > MAX_FIELD_CHARS;
  if (typeof value === "object") {
    for (const key in value) if (tooLong(value[key])) return true;
  }
  return false;
}

let isoTimeMs = Number.NaN;
let isoTimeField = "";

/**
 * pino's `"time"` field, as its `isoTime` writes it, made once per millisecond: under load many lines fall
 * in the same one, and formatting the date was a seventh of what a line cost.
 */
function isoTime(): string {
  const now = Date.now();
  if (now !== isoTimeMs) {
    isoTimeMs = now;
    isoTimeField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return isoTimeField;
}

const quote = (value: string) => (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value));

/** A JSON log line as `time level msg key=value …` (nested objects as JSON). */
export function prettyLine(json: string): string {
  const { time, level, msg, ...fields } = JSON.parse(json) as Record<string, unknown>;
  let line = `${String(time)} ${String(level)} ${String(msg)}`;
  for (const [key, value] of Object.entries(fields)) {
    line += ` ${key}=${quote(typeof value === "object" ? JSON.stringify(value) : String(value))}`;
  }
  return line;
}

/**
 * The main thread's logger: one JSON object per line (pino), or a `pretty` line, written through a
 * {@link LogOutput} to standard output (or error), or to a sink.
 */
export class StreamLogger extends Logger {
  readonly #pino: pino.Logger;
  readonly #output: LogOutput | undefined;

  constructor(options: LoggerOptions = {}) {
    super();
    const fd = options.fd ?? 1;
    const stream = fd === 1 ? process.stdout : process.stderr;
    const format = options.format ?? (stream.isTTY ? "pretty" : "json");
    const sink = options.sink;
    let destination: pino.DestinationStream;
    if (sink) {
      destination = { write: (line: string) => sink(format === "pretty" ? prettyLine(line) : line.trimEnd()) };
    } else {
      const droppedLine = (count: number) => {
        const line = JSON.stringify({
          level: "warn",
          time: new Date().toISOString(),
          msg: "log lines dropped: the log's reader fell behind",
          dropped: count,
        });
        return format === "pretty" ? prettyLine(line) : line;
      };
      const output = new LogOutput(stream, { droppedLine });
      this.#output = output;
      destination = format === "pretty" ? { write: (line: string) => output.write(`${prettyLine(line)}\n`) } : output;
    }
    this.#pino = pino(
      {
        level: options.level ?? "info",
        base: undefined,
        messageKey: "msg",
        timestamp: isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  }

  override write(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (!this.#pino.isLevelEnabled(level)) return;
    // Copied only when a value is cut: most lines (one per invocation) have none to cut.
    this.#pino[level](tooLong(fields) ? (cut(fields) as LogFields) : fields, message);
    // An error may be the last thing the process says: it does not wait for the next write.
    if (level === "error") this.#output?.flush();
  }

  override flush(): void {
    this.#output?.flush();
  }
}
