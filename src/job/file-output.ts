/**
 * One input's `.out`, assembled in input order however the answers arrive: each mini-batch's answer is
 * delivered with its sequence number and written once all before it are. The file is written under a
 * temporary name and renamed when complete, so a failed or interrupted input never leaves an `.out` that
 * looks finished. (`--output -` writes to standard output instead, in the same order.)
 */
import { once } from "node:events";
import { createWriteStream, mkdirSync, renameSync, rmSync, type WriteStream } from "node:fs";
import path from "node:path";
import type { Writable } from "node:stream";

/**
 * The output could not be written (a full disk, a closed pipe): not the input's fault, and every other
 * input would meet it too, so the job stops.
 */
export class OutputError extends Error {
  /** The system's error code (`ENOSPC`, `EPIPE`…), or `OUTPUT_FAILED`. */
  readonly code: string;

  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot write ${target}: ${reason}`, { cause });
    this.code = (cause as { code?: unknown }).code?.toString() ?? "OUTPUT_FAILED";
  }
}

const WAKE_EVENTS = ["drain", "close", "error"] as const;

/** Where an input's answers go. */
export class FileOutput {
  #stream: Writable;
  #file: WriteStream | undefined;
  readonly #temporary: string | undefined;
  readonly #target: string;
  readonly #pending = new Map<number, readonly Uint8Array[]>();
  #next = 0;
  #writing: Promise<void> = Promise.resolve();
  /** The stream's first error: once it failed, nothing more can be written. */
  #failed: OutputError | undefined;
  readonly #onError = (error: Error) => {
    this.#failed ??= new OutputError(this.#target, error);
  };
  bytesWritten = 0;

  /** Writes to `final` (through a temporary name), or to `stream` when `final` is undefined. */
  constructor(
    readonly final: string | undefined,
    stream?: Writable,
  ) {
    if (final === undefined) {
      if (!stream) throw new Error("FileOutput needs a path or a stream");
      this.#stream = stream;
      this.#target = "standard output";
    } else {
      this.#target = final;
      try {
        mkdirSync(path.dirname(final), { recursive: true });
      } catch (error) {
        throw new OutputError(final, error);
      }
      this.#temporary = `${final}.partial`;
      this.#file = createWriteStream(this.#temporary);
      this.#stream = this.#file;
    }
    // Without a listener a write error would be thrown from the stream, past every caller.
    this.#stream.on("error", this.#onError);
  }

  /** Hands over the bytes of answer `sequence`; they are written after every earlier answer. */
  deliver(sequence: number, parts: readonly Uint8Array[]): Promise<void> {
    this.#pending.set(sequence, parts);
    this.#writing = this.#writing.then(() => this.#flush());
    return this.#writing;
  }

  async #flush(): Promise<void> {
    for (let parts = this.#pending.get(this.#next); parts !== undefined; parts = this.#pending.get(this.#next)) {
      this.#pending.delete(this.#next);
      this.#next++;
      for (const part of parts) await this.write(part);
    }
  }

  /** Writes one chunk now (a whole input sent as one body, answered as it streams). */
  async write(chunk: Uint8Array): Promise<void> {
    this.#check();
    this.bytesWritten += chunk.byteLength;
    if (this.#stream.write(chunk)) return;
    await this.#drainedOrClosed();
    this.#check();
  }

  /** Throws if the stream failed or closed (standard output may have failed under an earlier input). */
  #check(): void {
    const stream = this.#stream;
    if (!this.#failed && stream.destroyed) this.#onError(stream.errored ?? new Error("the stream was closed"));
    if (this.#failed) throw this.#failed;
  }

  /** A failed or closed stream never drains: waits for whichever comes first. */
  #drainedOrClosed(): Promise<void> {
    const stream = this.#stream;
    return new Promise((resolve) => {
      const done = () => {
        for (const event of WAKE_EVENTS) stream.off(event, done);
        resolve();
      };
      for (const event of WAKE_EVENTS) stream.on(event, done);
    });
  }

  /**
   * Forgets what was written, to write the answer again from its start (a whole input sent again after its
   * server failed). False where that cannot be done: standard output, once any of it was written.
   */
  async restart(): Promise<boolean> {
    await this.#writing;
    this.#check();
    if (!this.#file || this.#temporary === undefined) return this.bytesWritten === 0;
    this.#file.off("error", this.#onError);
    await this.#destroyFile();
    this.#file = createWriteStream(this.#temporary);
    this.#stream = this.#file;
    this.#stream.on("error", this.#onError);
    this.bytesWritten = 0;
    return true;
  }

  /** Closes the file and gives it its final name; throws {@link OutputError} (and removes it) if it cannot. */
  async finish(): Promise<void> {
    await this.#writing;
    if (this.#file && this.#temporary !== undefined && this.final !== undefined) {
      // A file that failed after its last write may be closed already: no 'close' would come.
      if (!this.#file.closed) {
        const closed = once(this.#file, "close").catch(() => {});
        this.#file.end();
        await closed;
      }
      if (!this.#failed) {
        try {
          renameSync(this.#temporary, this.final);
        } catch (error) {
          this.#failed = new OutputError(this.final, error);
        }
      }
    }
    this.#stream.off("error", this.#onError);
    if (this.#failed) {
      this.#remove();
      throw this.#failed;
    }
  }

  /** Closes and deletes what was written: the input failed, its output failed, or the job was interrupted. */
  async discard(): Promise<void> {
    await this.#writing.catch(() => {});
    await this.#destroyFile();
    this.#stream.off("error", this.#onError);
    this.#remove();
  }

  /** Closes the file without finishing it (a closed one has no 'close' to come). */
  async #destroyFile(): Promise<void> {
    if (!this.#file || this.#file.closed) return;
    const closed = once(this.#file, "close").catch(() => {});
    this.#file.destroy();
    await closed;
  }

  #remove(): void {
    if (this.#temporary !== undefined) rmSync(this.#temporary, { force: true });
  }
}
