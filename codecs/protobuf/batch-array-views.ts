/**
 * Byte and 32-bit-word views of a batch's float array, made once for the many records that array holds:
 * a view per record cost as much as reading a small record.
 */
export class BatchArrayViews {
  #array: Float32Array | Float64Array | undefined;
  #bytes: Uint8Array = new Uint8Array(0);
  #words: Uint32Array = new Uint32Array(0);

  /** `array`'s bytes. */
  bytes(array: Float32Array | Float64Array): Uint8Array {
    this.#see(array);
    return this.#bytes;
  }

  /** `array`'s elements as IEEE bits (a float32 array's: one word each). */
  words(array: Float32Array): Uint32Array {
    this.#see(array);
    return this.#words;
  }

  #see(array: Float32Array | Float64Array): void {
    if (array === this.#array) return;
    this.#array = array;
    this.#bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    this.#words = new Uint32Array(array.buffer, array.byteOffset, array.byteLength / 4);
  }
}
