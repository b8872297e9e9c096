/**
 * Where the server's log lines go: a file descriptor (standard output, or standard error for
 * `sluice transform`), written without ever blocking the event loop.
 *
 * Writing each line synchronously froze the whole server whenever the log's reader fell behind (a
 * container runtime's log driver waiting on CloudWatch): Node keeps a pipe on standard output
 * non-blocking, and pino's synchronous writer answered a full pipe by sleeping the main thread 100 ms at
 * a time, `/ping` included, until the reader caught up. Here a line that does not fit waits in a
 * bounded backlog, retried on a timer; past the bound, lines are dropped and counted, and a line saying
 * how many follows once the reader catches up. Lines written within {@link WRITE_INTERVAL_MS} of each
 * other leave in one write (one system call per line was about a tenth of what a one-record request
 * cost the main thread); an error line leaves at once, and whatever is left is written when the process
 * exits.
 */
import { writeSync } from "node:fs";

/** The longest a line waits before it is written, in milliseconds (error lines do not wait). */
export const WRITE_INTERVAL_MS = 20;

/** Bytes held while the reader is behind; lines beyond are dropped (and counted). */
export const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;

/** Pending bytes that are written at once rather than at the next interval. */
const WRITE_NOW_BYTES = 64 * 1024;

/** How long the exit handler keeps retrying a full pipe before it gives up on the rest. */
const EXIT_RETRY_MS = 2_000;

/** Options of a {@link LogOutput}. */
export interface LogOutputOptions {
  /** The line (without its newline) that reports `count` lines dropped while the reader was behind. */
  readonly droppedLine: (count: number) => string;
  /** Bytes held before lines are dropped; {@link MAX_BACKLOG_BYTES} by default. */
  readonly maxBacklogBytes?: number;
}

/** Non-blocking, batched, bounded writing of log lines to one file descriptor. */
export class LogOutput {
  readonly #fd: number;
  readonly #droppedLine: (count: number) => string;
  readonly #maxBacklogBytes: number;
  /** Lines not yet handed to the descriptor. */
  #pending: string[] = [];
  #pendingChars = 0;
  /** Bytes the descriptor refused (its pipe was full), written before anything newer. */
  #backlog: Buffer | undefined;
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastWrite = 0;

  /**
   * Writes to `stream`'s descriptor directly. Node opens a pipe behind `process.stdout` or `process.stderr`
   * non-blocking when the stream is first used, which is what lets a full pipe answer at once.
   */
  constructor(stream: typeof process.stdout | typeof process.stderr, options: LogOutputOptions) {
    this.#fd = stream.fd;
    this.#droppedLine = options.droppedLine;
    this.#maxBacklogBytes = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
    process.once("exit", () => this.flushAtExit());
  }

  /** Queues one line (ending in a newline); it leaves within {@link WRITE_INTERVAL_MS}. */
  write(line: string): void {
    // Once a line is dropped, every line is until the count is written, so that the count stands where
    // the gap is.
    if (
      this.#dropped > 0 ||
      (this.#backlog?.byteLength ?? 0) + this.#pendingChars + line.length > this.#maxBacklogBytes
    ) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#pendingChars += line.length;
    // While the descriptor refuses the backlog, only the timer retries it: a retry per line would cost
    // each line a failed system call and a thrown error, for as long as the reader stays behind.
    if (this.#pendingChars >= WRITE_NOW_BYTES && !this.#backlog) this.flush();
    else this.#schedule(Math.max(0, this.#lastWrite + WRITE_INTERVAL_MS - performance.now()));
  }

  /** Writes what the descriptor takes now; the rest is retried at the next interval. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#lastWrite = performance.now();
    if (this.#backlog && !this.#writeBacklog()) {
      this.#schedule(WRITE_INTERVAL_MS);
      return;
    }
    if (this.#dropped > 0) {
      this.#pending.push(`${this.#droppedLine(this.#dropped)}\n`);
      this.#dropped = 0;
    }
    if (this.#pending.length === 0) return;
    this.#backlog = Buffer.from(this.#pending.length === 1 ? this.#pending[0] : this.#pending.join(""));
    this.#pending = [];
    this.#pendingChars = 0;
    if (!this.#writeBacklog()) this.#schedule(WRITE_INTERVAL_MS);
  }

  /** Everything left, retrying a full pipe for up to {@link EXIT_RETRY_MS} (the process is ending). */
  flushAtExit(): void {
    const deadline = performance.now() + EXIT_RETRY_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      this.flush();
      if (!this.#backlog || performance.now() > deadline) break;
      Atomics.wait(pause, 0, 0, 10);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, delayMs);
    // A line waiting to be written does not keep a finished process alive: the exit handler writes it.
    this.#timer.unref();
  }

  /** Writes as much of the backlog as the descriptor takes; whether it is all gone. */
  #writeBacklog(): boolean {
    let rest = this.#backlog;
    while (rest && rest.byteLength > 0) {
      let written: number;
      try {
        written = writeSync(this.#fd, rest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") break;
        // A closed or broken descriptor: nobody can read these lines any more.
        rest = undefined;
        break;
      }
      rest = rest.subarray(written);
    }
    this.#backlog = rest && rest.byteLength > 0 ? rest : undefined;
    return this.#backlog === undefined;
  }
}
