/**
 * Progress of a long transform job on standard error: a bar (cli-progress) on a terminal — files,
 * records, MB, MB/s and the time left — and a plain line every few seconds otherwise, for logs.
 */
import cliProgress from "cli-progress";

/** Counters the job updates. */
export interface JobCounters {
  filesDone: number;
  filesFailed: number;
  records: number;
  bytesIn: number;
}

const MB = 2 ** 20;
const PLAIN_EVERY_MS = 5000;

/** Reports progress until stopped. */
export class JobProgress {
  readonly #bar: cliProgress.SingleBar | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #started = performance.now();

  constructor(
    private readonly counters: JobCounters,
    private readonly totalFiles: number,
    private readonly totalBytes: number | undefined,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    if (stream.isTTY) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream,
          format:
            "{bar} {percentage}% | {files}/{totalFiles} files{failed} | {records} records | {mb} MB | {speed} MB/s | ETA {eta_formatted}",
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(Math.max(1, totalBytes ?? 1), 0, this.#payload());
      this.#timer = setInterval(() => this.#bar?.update(this.counters.bytesIn, this.#payload()), 250);
    } else {
      this.#timer = setInterval(() => this.stream.write(`${this.line()}\n`), PLAIN_EVERY_MS);
    }
    this.#timer.unref();
  }

  #payload() {
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      files: this.counters.filesDone + this.counters.filesFailed,
      // Failures show as they happen, not only in the summary at the end of a long job.
      failed: this.counters.filesFailed > 0 ? ` (${this.counters.filesFailed} failed)` : "",
      totalFiles: this.totalFiles,
      records: this.counters.records,
      mb: (this.counters.bytesIn / MB).toFixed(1),
      speed: (this.counters.bytesIn / MB / Math.max(seconds, 0.001)).toFixed(1),
    };
  }

  /** The plain progress line. */
  line(): string {
    const p = this.#payload();
    const share = this.totalBytes ? ` (${((100 * this.counters.bytesIn) / this.totalBytes).toFixed(0)}%)` : "";
    return `sluice transform: ${p.files}/${p.totalFiles} files${p.failed}, ${p.records} records, ${p.mb} MB${share}, ${p.speed} MB/s`;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#bar) {
      this.#bar.update(this.counters.bytesIn, this.#payload());
      this.#bar.stop();
    }
  }
}
