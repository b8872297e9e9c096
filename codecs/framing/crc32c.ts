/**
 * CRC-32C (Castagnoli), as TFRecord frames use it, computed incrementally so that a frame's checksum can
 * be taken as its bytes arrive. Slicing-by-8 tables: eight bytes per step.
 */

const POLYNOMIAL = 0x82f63b78;
const MASK_DELTA = 0xa282ead8;

const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff];
  }
  return tables;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES;

/** The running state of a checksum before {@link crc32cUpdate} is first called. */
export const CRC32C_INITIAL = 0xffffffff;

/** Folds `bytes[start, end)` into a running checksum `state` (start from {@link CRC32C_INITIAL}). */
export function crc32cUpdate(state: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = state;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const low = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      T7[low & 0xff] ^
      T6[(low >>> 8) & 0xff] ^
      T5[(low >>> 16) & 0xff] ^
      T4[low >>> 24] ^
      T3[bytes[i + 4]] ^
      T2[bytes[i + 5]] ^
      T1[bytes[i + 6]] ^
      T0[bytes[i + 7]];
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
