/**
 * One-line log records (`time level message key=value …`) on stderr, so each request, start-up step
 * and failure is a single greppable line in CloudWatch.
 */

/** Severity of a log line. */
export type LogLevel = "info" | "warn" | "error";

/** Values a log field may hold. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Where log lines go; tests pass their own to capture them. */
export type LogSink = (line: string) => void;

/** The longest field value written; longer ones (a client's header, say) are cut with a note. */
const MAX_FIELD_CHARS = 500;

const cut = (value: string) =>
  value.length <= MAX_FIELD_CHARS
    ? value
    : `${value.slice(0, MAX_FIELD_CHARS)}… (${value.length - MAX_FIELD_CHARS} more characters)`;
const quote = (value: string) => (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value));

/** A logger writing `level message k=v` lines. */
export class Logger {
  constructor(private readonly sink: LogSink = (line) => process.stderr.write(`${line}\n`)) {}

  /** Writes one line. */
  write(level: LogLevel, message: string, fields: LogFields = {}): void {
    let line = `${new Date().toISOString()} ${level} ${message}`;
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) line += ` ${key}=${quote(cut(String(value)))}`;
    }
    this.sink(line);
  }

  info(message: string, fields?: LogFields): void {
    this.write("info", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write("warn", message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write("error", message, fields);
  }
}
