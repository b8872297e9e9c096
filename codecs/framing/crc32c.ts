/**
 * CRC-32C (Castagnoli), as TFRecord frames use it, computed incrementally so that a frame's checksum can
 * be taken as its bytes arrive. Slicing-by-16 tables: sixteen bytes per step.
 */

const POLYNOMIAL = 0x82f63b78;
const MASK_DELTA = 0xa282ead8;

const TABLES: Int32Array[] = (() => {
  const tables = Array.from({ length: 16 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 16; t++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff];
  }
  return tables;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15] = TABLES;

let viewed: ArrayBufferLike | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/**
 * A view of all of `buffer`, kept for the next call: most checksums run over the same buffer (a body's
 * ring, an encoder's output), and making a view cost more than checksumming a short record.
 */
function viewOf(buffer: ArrayBufferLike): DataView {
  if (buffer !== viewed) {
    view = new DataView(buffer);
    viewed = buffer;
  }
  return view;
}

/** The running state of a checksum before {@link crc32cUpdate} is first called. */
export const CRC32C_INITIAL = 0xffffffff | 0;

/** Folds `bytes[start, end)` into a running checksum `state` (start from {@link CRC32C_INITIAL}). */
export function crc32cUpdate(state: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = state | 0;
  let i = start;
  if (end - start >= 16) {
    const view = viewOf(bytes.buffer);
    const shift = bytes.byteOffset;
    for (; i + 16 <= end; i += 16) {
      const a = crc ^ view.getInt32(shift + i, true);
      const b = view.getInt32(shift + i + 4, true);
      const c = view.getInt32(shift + i + 8, true);
      const d = view.getInt32(shift + i + 12, true);
      crc =
        T15[a & 0xff] ^
        T14[(a >>> 8) & 0xff] ^
        T13[(a >>> 16) & 0xff] ^
        T12[a >>> 24] ^
        T11[b & 0xff] ^
        T10[(b >>> 8) & 0xff] ^
        T9[(b >>> 16) & 0xff] ^
        T8[b >>> 24] ^
        T7[c & 0xff] ^
        T6[(c >>> 8) & 0xff] ^
        T5[(c >>> 16) & 0xff] ^
        T4[c >>> 24] ^
        T3[d & 0xff] ^
        T2[(d >>> 8) & 0xff] ^
        T1[(d >>> 16) & 0xff] ^
        T0[d >>> 24];
    }
  }
  for (; i < end; i++) crc = T0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

/** The finished checksum of a running state. */
export const crc32cFinish = (state: number): number => (state ^ 0xffffffff) >>> 0;

/** TFRecord's masked form of a CRC-32C: rotated right by 15 bits plus a constant (mod 2^32). */
export const maskCrc = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;

/** The masked CRC-32C of `bytes[start, end)`. */
export const maskedCrc32c = (bytes: Uint8Array, start = 0, end = bytes.length): number =>
  maskCrc(crc32cFinish(crc32cUpdate(CRC32C_INITIAL, bytes, start, end)));
