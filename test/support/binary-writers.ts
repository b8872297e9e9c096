/**
 * Independent writers and readers for the binary formats, written from the byte layouts in CONTRACT.md
 * and sharing no code with `codecs/` (not even protobufjs or the CRC tables), so that a symmetric bug in
 * a codec's decoder and encoder cannot make a test pass.
 */

type Bytes = number[];

/** A varint (negative numbers as 64-bit two's complement, 10 bytes). */
export function varint(value: number | bigint): Bytes {
  let n = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return out;
}

const tag = (fieldNumber: number, wireType: number) => varint((fieldNumber << 3) | wireType);

/** A length-delimited field. */
export const lengthDelimited = (fieldNumber: number, payload: ArrayLike<number>): Bytes => [
  ...tag(fieldNumber, 2),
  ...varint(payload.length),
  ...Array.from(payload),
];

const utf8 = (text: string) => Array.from(new TextEncoder().encode(text));

function littleEndian(values: readonly number[], size: 4 | 8): Bytes {
  const view = new DataView(new ArrayBuffer(values.length * size));
  for (let i = 0; i < values.length; i++) {
    if (size === 4) view.setFloat32(i * 4, values[i], true);
    else view.setFloat64(i * 8, values[i], true);
  }
  return Array.from(new Uint8Array(view.buffer));
}

/** A tensor of an Amazon Record `Value`. */
export interface TestTensor {
  readonly type: "float32" | "float64" | "int32";
  readonly values: readonly number[];
  readonly keys?: readonly (number | bigint)[];
  readonly shape?: readonly number[];
  /** Write each value as its own field instead of one packed run. */
  readonly unpacked?: boolean;
}

function tensorMessage(tensor: TestTensor): Bytes {
  const { type, values } = tensor;
  let out: Bytes;
  if (tensor.unpacked) {
    out = values.flatMap((v) =>
      type === "int32"
        ? [...tag(1, 0), ...varint(v)]
        : type === "float32"
          ? [...tag(1, 5), ...littleEndian([v], 4)]
          : [...tag(1, 1), ...littleEndian([v], 8)],
    );
  } else {
    const packed =
      type === "int32" ? values.flatMap((v) => varint(v)) : littleEndian([...values], type === "float32" ? 4 : 8);
    out = lengthDelimited(1, packed);
  }
  if (tensor.keys)
    out.push(
      ...lengthDelimited(
        2,
        tensor.keys.flatMap((k) => varint(k)),
      ),
    );
  if (tensor.shape)
    out.push(
      ...lengthDelimited(
        3,
        tensor.shape.flatMap((d) => varint(d)),
      ),
    );
  return out;
}

const VALUE_FIELD = { float32: 2, float64: 3, int32: 7 } as const;

/** An Amazon `Record` with the given features (a tensor, or bytes for a `Bytes` value). */
export function amazonRecord(features: Record<string, TestTensor | string>, extra: Bytes = []): Uint8Array {
  const entries = Object.entries(features).flatMap(([key, tensor]) => {
    const value =
      typeof tensor === "string"
        ? lengthDelimited(9, lengthDelimited(1, utf8(tensor)))
        : lengthDelimited(VALUE_FIELD[tensor.type], tensorMessage(tensor));
    return lengthDelimited(1, [...lengthDelimited(1, utf8(key)), ...lengthDelimited(2, value)]);
  });
  return Uint8Array.from([...lengthDelimited(3, utf8("uid-1")), ...entries, ...extra]);
}

/** A `tf.train.Example` with float, int64 or bytes features. */
export function tfExample(
  features: Record<string, { float?: number[]; int64?: (number | bigint)[]; bytes?: string[] }>,
): Uint8Array {
  const entries = Object.entries(features).flatMap(([key, feature]) => {
    const kind = feature.float
      ? lengthDelimited(2, lengthDelimited(1, littleEndian(feature.float, 4)))
      : feature.int64
        ? lengthDelimited(
            3,
            lengthDelimited(
              1,
              feature.int64.flatMap((v) => varint(v)),
            ),
          )
        : lengthDelimited(
            1,
            (feature.bytes ?? []).flatMap((b) => lengthDelimited(1, utf8(b))),
          );
    return lengthDelimited(1, [...lengthDelimited(1, utf8(key)), ...lengthDelimited(2, kind)]);
  });
  return Uint8Array.from(lengthDelimited(1, entries));
}

/** A RecordIO frame: magic, length with cflag, payload, zero padding. */
export function recordIOFrame(payload: Uint8Array, cflag = 0): Uint8Array {
  const padded = Math.ceil(payload.length / 4) * 4;
  const frame = new Uint8Array(8 + padded);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 0xced7230a, true);
  view.setUint32(4, ((cflag << 29) | payload.length) >>> 0, true);
  frame.set(payload, 8);
  return frame;
}

/** A record split across `parts` RecordIO frames (cflag 1, 2…, 3). */
export function recordIOMultipart(payload: Uint8Array, parts: number): Uint8Array {
  const size = Math.ceil(payload.length / parts);
  const frames: Uint8Array[] = [];
  for (let p = 0; p < parts; p++) {
    const cflag = p === 0 ? 1 : p === parts - 1 ? 3 : 2;
    frames.push(recordIOFrame(payload.subarray(p * size, Math.min((p + 1) * size, payload.length)), cflag));
  }
  return concat(frames);
}

/** CRC-32C computed bit by bit (the slow, obviously correct way). */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;

/** A TFRecord frame: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecordFrame(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(12 + data.length + 4);
  const view = new DataView(frame.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, masked(crc32cBitwise(frame.subarray(0, 8))), true);
  frame.set(data, 12);
  view.setUint32(12 + data.length, masked(crc32cBitwise(data)), true);
  return frame;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The payloads of a RecordIO stream of whole-record frames. */
export function readRecordIOFrames(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const payloads: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    if (view.getUint32(offset, true) !== 0xced7230a) throw new Error(`bad magic at ${offset}`);
    const length = view.getUint32(offset + 4, true) & 0x1fffffff;
    payloads.push(bytes.subarray(offset + 8, offset + 8 + length));
    offset += 8 + Math.ceil(length / 4) * 4;
  }
  return payloads;
}

/** The data of a TFRecord stream, checking both CRCs. */
export function readTfRecordFrames(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const records: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const length = Number(view.getBigUint64(offset, true));
    if (view.getUint32(offset + 8, true) !== masked(crc32cBitwise(bytes.subarray(offset, offset + 8)))) {
      throw new Error(`bad length CRC at ${offset}`);
    }
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    if (view.getUint32(offset + 12 + length, true) !== masked(crc32cBitwise(data)))
      throw new Error(`bad data CRC at ${offset}`);
    records.push(data);
    offset += 16 + length;
  }
  return records;
}

/** A decoded protobuf field: a varint, a fixed-width value's bytes, or a length-delimited payload. */
export interface WireField {
  readonly field: number;
  readonly wireType: number;
  readonly varint?: bigint;
  readonly bytes?: Uint8Array;
}

/** Splits a protobuf message into its fields (no schema needed). */
export function parseWire(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let i = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[i++];
      if (b === undefined) throw new Error("truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(readVarint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === 0) fields.push({ field, wireType, varint: readVarint() });
    else if (wireType === 2) {
      const length = Number(readVarint());
      fields.push({ field, wireType, bytes: bytes.subarray(i, i + length) });
      i += length;
    } else {
      const size = wireType === 5 ? 4 : 8;
      fields.push({ field, wireType, bytes: bytes.subarray(i, i + size) });
      i += size;
    }
  }
  return fields;
}

const only = (fields: WireField[], field: number) => fields.filter((f) => f.field === field);

function mapEntries(message: Uint8Array, field: number): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  for (const entry of only(parseWire(message), field)) {
    const parts = parseWire(entry.bytes as Uint8Array);
    const key = new TextDecoder().decode(only(parts, 1)[0]?.bytes ?? new Uint8Array());
    entries.set(key, only(parts, 2)[0]?.bytes ?? new Uint8Array());
  }
  return entries;
}

function packedFloats(bytes: Uint8Array, size: 4 | 8): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: bytes.length / size }, (_, k) =>
    size === 4 ? view.getFloat32(k * 4, true) : view.getFloat64(k * 8, true),
  );
}

function packedVarints(bytes: Uint8Array): number[] {
  const values: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[i++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) break;
    }
    values.push(Number(BigInt.asIntN(64, result)));
  }
  return values;
}

/**
 * Reads an Amazon Record: its `label` (or `features`) tensors as plain numbers (a `bytes` value as
 * strings), and its metadata.
 */
export function readAmazonRecord(payload: Uint8Array, map: "label" | "features" = "label") {
  const tensors: Record<string, number[]> = {};
  const texts: Record<string, string[]> = {};
  for (const [key, value] of mapEntries(payload, map === "label" ? 2 : 1)) {
    const [tensorField] = parseWire(value);
    const tensor = parseWire(tensorField.bytes as Uint8Array);
    if (tensorField.field === 9) {
      texts[key] = only(tensor, 1).map((entry) => new TextDecoder().decode(entry.bytes));
      continue;
    }
    const values = only(tensor, 1)[0]?.bytes ?? new Uint8Array();
    tensors[key] =
      tensorField.field === 2
        ? packedFloats(values, 4)
        : tensorField.field === 3
          ? packedFloats(values, 8)
          : packedVarints(values);
  }
  const metadata = only(parseWire(payload), 4)[0]?.bytes;
  return { tensors, texts, metadata: metadata && new TextDecoder().decode(metadata) };
}

/** Reads a `tf.train.Example`: its features as plain numbers (bytes features as strings). */
export function readTfExample(payload: Uint8Array): Record<string, number[] | string[]> {
  const features = only(parseWire(payload), 1)[0]?.bytes ?? new Uint8Array();
  const result: Record<string, number[] | string[]> = {};
  for (const [key, feature] of mapEntries(features, 1)) {
    const [kind] = parseWire(feature);
    const list = parseWire(kind.bytes as Uint8Array);
    if (kind.field === 1) result[key] = list.map((f) => new TextDecoder().decode(f.bytes));
    else if (kind.field === 2) result[key] = packedFloats(only(list, 1)[0]?.bytes ?? new Uint8Array(), 4);
    else result[key] = packedVarints(only(list, 1)[0]?.bytes ?? new Uint8Array());
  }
  return result;
}
