/**
 * Writes a gzipped tar archive (POSIX ustar) of flat files, enough for a SageMaker `model.tar.gz`,
 * without depending on a `tar` binary.
 */
import { gzipSync } from "node:zlib";

const BLOCK = 512;

function header(name: string, size: number, mtime: number): Uint8Array {
  if (Buffer.byteLength(name) > 100) throw new RangeError(`file name too long for ustar: ${name}`);
  const block = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number) => value.toString(8).padStart(width - 1, "0");
  block.write(name, 0, 100, "utf8");
  block.write(octal(0o644, 8), 100, 8, "ascii");
  block.write(octal(0, 8), 108, 8, "ascii");
  block.write(octal(0, 8), 116, 8, "ascii");
  block.write(octal(size, 12), 124, 12, "ascii");
  block.write(octal(mtime, 12), 136, 12, "ascii");
  block.fill(" ", 148, 156);
  block.write("0", 156, 1, "ascii");
  block.write("ustar\u000000", 257, 8, "ascii");
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${octal(checksum, 7)}\u0000`, 148, 8, "ascii");
  return block;
}

/** A `.tar.gz` holding `files` (name → contents) at the archive's root. */
export function tarGz(files: Record<string, Uint8Array>, mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, data] of Object.entries(files)) {
    parts.push(header(name, data.length, mtime), data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return gzipSync(Buffer.concat(parts));
}
