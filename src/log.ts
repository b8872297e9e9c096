/**
 * The log's vocabulary, and the {@link Logger} every part of Sluice writes through. Where lines go is a
 * subclass's business: {@link StreamLogger} (`stream-logger.ts`) writes them on the main thread, and
 * worker threads post theirs to it (`threads/thread-logger.ts`), so every thread's lines reach one
 * stream in one format. Worker threads never load the writer (pino), which each would hold in memory.
 */

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** How lines are written: JSON for machines, `pretty` for people. */
export type LogFormat = "json" | "pretty";

/** Values a log field may hold (objects are written as nested JSON). */
export type LogValue = string | number | boolean | undefined | { readonly [key: string]: LogValue };

/** Fields of one log line. */
export type LogFields = { readonly [key: string]: LogValue };

/** Writes log lines; subclasses decide where they go. */
export abstract class Logger {
  /** Writes one line. */
  abstract write(level: LogLevel, message: string, fields?: LogFields): void;

  /** Writes the lines still waiting now, before something else writes to the same stream. */
  flush(): void {}

  debug(message: string, fields?: LogFields): void {
    this.write("debug", message, fields);
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
