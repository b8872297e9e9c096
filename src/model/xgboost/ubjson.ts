/**
 * Decodes Universal Binary JSON (UBJSON, draft 12), the format of XGBoost's `.ubj` models. Optimised
 * containers of one numeric type (`[$d#…`), which XGBoost writes for its per-node arrays, become typed
 * arrays, so a model of many trees decodes without a JavaScript number object per value.
 */

/** A decoded UBJSON value. */
export type UbjValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | UbjValue[]
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | { [key: string]: UbjValue };

/** The body is not valid UBJSON. */
export class UbjsonError extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

const NUMERIC_SIZES: Readonly<Record<string, number>> = { i: 1, U: 1, I: 2, l: 4, L: 8, d: 4, D: 8 };

class UbjReader {
  #pos = 0;
  readonly #view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.#pos >= this.bytes.length;
  }

  #need(count: number): number {
    const at = this.#pos;
    if (at + count > this.bytes.length) throw new UbjsonError(`truncated at byte ${at}`);
    this.#pos += count;
    return at;
  }

  #marker(): string {
    let marker: string;
    do marker = String.fromCharCode(this.bytes[this.#need(1)]);
    while (marker === "N");
    return marker;
  }

  #number(marker: string): number | bigint {
    const view = this.#view;
    switch (marker) {
      case "i":
        return view.getInt8(this.#need(1));
      case "U":
        return view.getUint8(this.#need(1));
      case "I":
        return view.getInt16(this.#need(2));
      case "l":
        return view.getInt32(this.#need(4));
      case "L": {
        const value = view.getBigInt64(this.#need(8));
        return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value;
      }
      case "d":
        return view.getFloat32(this.#need(4));
      case "D":
        return view.getFloat64(this.#need(8));
      default:
        throw new UbjsonError(`expected a number at byte ${this.#pos - 1}, found marker ${JSON.stringify(marker)}`);
    }
  }

  #length(): number {
    const length = this.#number(this.#marker());
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0)
      throw new UbjsonError(`invalid length ${String(length)} at byte ${this.#pos}`);
    return length;
  }

  #text(): string {
    const length = this.#length();
    const at = this.#need(length);
    return utf8.decode(this.bytes.subarray(at, at + length));
  }

  value(marker = this.#marker()): UbjValue {
    switch (marker) {
      case "Z":
        return null;
      case "T":
        return true;
      case "F":
        return false;
      case "C":
        return String.fromCharCode(this.bytes[this.#need(1)]);
      case "S":
      case "H":
        return this.#text();
      case "[":
        return this.#array();
      case "{":
        return this.#object();
      default:
        return this.#number(marker);
    }
  }

  /** Reads `$type#count` after a container opens; a count without a type is allowed, a type without one is not. */
  #containerHeader(): { type?: string; count?: number } {
    const next = String.fromCharCode(this.bytes[this.#pos]);
    if (next === "$") {
      this.#pos++;
      const type = String.fromCharCode(this.bytes[this.#need(1)]);
      if (String.fromCharCode(this.bytes[this.#need(1)]) !== "#")
        throw new UbjsonError(`a typed container needs a count (byte ${this.#pos - 1})`);
      return { type, count: this.#length() };
    }
    if (next === "#") {
      this.#pos++;
      return { count: this.#length() };
    }
    return {};
  }

  #array(): UbjValue {
    const { type, count } = this.#containerHeader();
    if (type !== undefined && count !== undefined && NUMERIC_SIZES[type] !== undefined)
      return this.#typedArray(type, count);
    const items: UbjValue[] = [];
    if (count !== undefined) {
      for (let i = 0; i < count; i++) items.push(type !== undefined ? this.value(type) : this.value());
      return items;
    }
    for (;;) {
      const marker = this.#marker();
      if (marker === "]") return items;
      items.push(this.value(marker));
    }
  }

  #typedArray(type: string, count: number): UbjValue {
    const size = NUMERIC_SIZES[type];
    const at = this.#need(size * count);
    const view = this.#view;
    switch (type) {
      case "U":
        return this.bytes.slice(at, at + count);
      case "i":
        return new Int8Array(this.bytes.slice(at, at + count).buffer);
      case "I":
        return Int16Array.from({ length: count }, (_, k) => view.getInt16(at + 2 * k));
      case "l":
        return Int32Array.from({ length: count }, (_, k) => view.getInt32(at + 4 * k));
      case "L":
        return BigInt64Array.from({ length: count }, (_, k) => view.getBigInt64(at + 8 * k));
      case "d":
        return Float32Array.from({ length: count }, (_, k) => view.getFloat32(at + 4 * k));
      default:
        return Float64Array.from({ length: count }, (_, k) => view.getFloat64(at + 8 * k));
    }
  }

  #object(): UbjValue {
    const { type, count } = this.#containerHeader();
    const object: { [key: string]: UbjValue } = {};
    const entry = () => {
      const key = this.#text();
      object[key] = type !== undefined ? this.value(type) : this.value();
    };
    if (count !== undefined) {
      for (let i = 0; i < count; i++) entry();
      return object;
    }
    for (;;) {
      if (String.fromCharCode(this.bytes[this.#pos]) === "}") {
        this.#pos++;
        return object;
      }
      if (this.done) throw new UbjsonError("an object is not closed");
      entry();
    }
  }
}

/** Decodes one UBJSON document; throws {@link UbjsonError} when `bytes` is not one. */
export function decodeUbjson(bytes: Uint8Array): UbjValue {
  const reader = new UbjReader(bytes);
  const value = reader.value();
  if (!reader.done) throw new UbjsonError("bytes follow the document");
  return value;
}
