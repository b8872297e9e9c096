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

/** Where an input's answers go. */
export class FileOutput {
  readonly #stream: Writable;
  readonly #file: WriteStream | undefined;
  readonly #temporary: string | undefined;
  readonly #pending = new Map<number, readonly Uint8Array[]>();
  #next = 0;
  #writing: Promise<void> = Promise.resolve();
  bytesWritten = 0;

  /** Writes to `final` (through a temporary name), or to `stream` when `final` is undefined. */
  constructor(
    readonly final: string | undefined,
    stream?: Writable,
  ) {
    if (final === undefined) {
      if (!stream) throw new Error("FileOutput needs a path or a stream");
      this.#stream = stream;
      return;
    }
    mkdirSync(path.dirname(final), { recursive: true });
    this.#temporary = `${final}.partial`;
    this.#file = createWriteStream(this.#temporary);
    this.#stream = this.#file;
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
      for (const part of parts) {
        this.bytesWritten += part.byteLength;
        if (!this.#stream.write(part)) await once(this.#stream, "drain");
      }
    }
  }

  /** Writes one chunk now (a whole input sent as one body, answered as it streams). */
  async write(chunk: Uint8Array): Promise<void> {
    this.bytesWritten += chunk.byteLength;
    if (!this.#stream.write(chunk)) await once(this.#stream, "drain");
  }

  /** Closes the file and gives it its final name. */
  async finish(): Promise<void> {
    await this.#writing;
    if (!this.#file || this.#temporary === undefined || this.final === undefined) return;
    this.#file.end();
    await once(this.#file, "close");
    renameSync(this.#temporary, this.final);
  }

  /** Closes and deletes what was written: the input failed or the job was interrupted. */
  async discard(): Promise<void> {
    await this.#writing.catch(() => {});
    if (!this.#file || this.#temporary === undefined) return;
    this.#file.destroy();
    await once(this.#file, "close").catch(() => {});
    rmSync(this.#temporary, { force: true });
  }
}
