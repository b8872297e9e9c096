/**
 * One large body run as parts on several codec threads at once. While codec threads are idle, the main
 * thread cuts the body at a record's end (found by the input codec's {@link RecordBoundaryScanner}) each
 * time the part being written has reached its size, and writes the rest into a new part: an invocation of
 * its own, on another thread, with a ring of its own. The answer is the parts' answers in order (the
 * output codec `concatenates`), read one part after the other, so that a part ahead of the reader stops
 * once its answer credit is spent. A part's error names the record in the whole body: its record index,
 * byte offset and line are moved by the parts before it.
 */
import type { RecordBoundaryScanner } from "../codec/framing.js";
import { BodyIdleTimeoutError, ClientClosedRequestError, PayloadTooLargeError, SluiceError } from "../errors.js";
import type { RecordFailure } from "../pipeline.js";
import { type BodyParts, BodyPump, type BodyPumpOwner } from "./body-pump.js";
import { fromWire, toWire } from "./error-transport.js";
import type { InvocationJob } from "./messages.js";
import type { FedBody, InvocationStats, RemoteInvocation } from "./remote-invocation.js";

/** How a body is cut, and how a part is started. */
export interface SplitOptions {
  /** Bytes a part takes before it may be cut at the next record's end. */
  readonly partBytes: number;
  /** The most bytes the whole body may have (413 past it). */
  readonly maxBodyBytes: number | undefined;
  readonly bodyIdleTimeoutMs: number;
  /**
   * Whether cutting the body is worth it while `runningParts` of its parts run on codec threads: whether
   * the other invocations leave it threads to spread over.
   */
  readonly mayCut: (runningParts: number) => boolean;
  /**
   * Whether another part may start while `runningParts` of the body's parts run and `unreadParts` (those
   * and the ones that ended with their answers not yet read) wait for the reader.
   */
  readonly mayStart: (runningParts: number, unreadParts: number) => boolean;
  /** Starts a part on the least busy codec thread; its ring is fed through `body`. */
  readonly startPart: (body: FedBody) => RemoteInvocation;
}

/** Codec threads a body's parts can run on, as the thread that cuts the body sees them. */
export interface PartThreads {
  /** Threads the invocations other than a body's own `ownParts` (running) leave free. */
  spareThreads(ownParts: number): number;
  /** Starts a part on the least busy thread; its ring is fed through `body`. */
  invoke(
    job: InvocationJob,
    body: FedBody,
    signal: AbortSignal | undefined,
    bodyIdleTimeoutMs: number,
  ): RemoteInvocation;
}

/**
 * Starts an invocation whose body is cut at record ends (found by `scanner`) into parts of about
 * `partBytes`, each run on the least busy of `threads`, while they leave threads to it.
 */
export function invokeInParts(
  threads: PartThreads,
  job: InvocationJob,
  body: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
  bodyIdleTimeoutMs: number,
  scanner: RecordBoundaryScanner,
  partBytes: number,
): SplitInvocation {
  // The whole body's limit is kept by the split, which sees every byte; a part's would be its own.
  const partJob: InvocationJob = { ...job, maxBodyBytes: undefined };
  return new SplitInvocation(body, scanner, {
    partBytes,
    maxBodyBytes: job.maxBodyBytes,
    bodyIdleTimeoutMs,
    // Worth cutting while the other invocations leave at least two threads (the part's and another).
    mayCut: (running) => threads.spareThreads(running) >= 2,
    // Two parts for each spare thread keep them all busy while the body arrives faster than they decode
    // it; the next part waits (and the body with it) until one is read to its end. That bounds the body
    // bytes waiting in rings, and the answers waiting for a reader, to two parts per thread (a client
    // that stops reading stops the body), and keeps the last part as short as the others.
    mayStart: (running, unread) => unread < Math.max(1, 2 * threads.spareThreads(running)),
    startPart: (fed) => threads.invoke(partJob, fed, signal, bodyIdleTimeoutMs),
  });
}

interface Part {
  readonly invocation: RemoteInvocation;
  /** Offset of the part's first byte in the body. */
  readonly firstByte: number;
}

/** A body run as one or more parts. */
export class SplitInvocation implements BodyPumpOwner, BodyParts {
  /** The answer, chunk by chunk; throws the first failing part's error, located in the whole body. */
  readonly output: AsyncGenerator<Uint8Array>;
  /** The parts not yet read to their end, in body order (a read part leaves only its counters behind). */
  readonly #parts: Part[] = [];
  /** The counters of the parts read to their end, summed. */
  readonly #read = emptyCounters();
  /** Parts started so far. */
  #partCount = 0;
  #current: RemoteInvocation;
  /** Unset only while the first part starts. */
  readonly #pump: BodyPump | undefined;
  /** Body bytes shown to the scanner so far, and where the current part began. */
  #bytes = 0;
  #partStart = 0;
  #bodyEnded = false;
  /** Set when the body is not to be read any further: a part failed, or this side failed the invocation. */
  #stopped = false;
  /** Why this side failed the invocation (an idle or too large body). */
  #failure: SluiceError | undefined;
  /** Wakes the reader waiting for the next part or the body's end. */
  #wakeReader: (() => void) | undefined;

  constructor(
    body: AsyncIterable<Uint8Array>,
    private readonly scanner: RecordBoundaryScanner,
    private readonly options: SplitOptions,
  ) {
    this.#current = this.#startPart();
    this.output = this.#answer();
    this.#pump = new BodyPump(this.#current.ring, body, this, options.bodyIdleTimeoutMs, this);
  }

  /** The parts' counters, summed. */
  get stats(): InvocationStats {
    const sums = emptyCounters();
    addCounters(sums, this.#read);
    for (const { invocation } of this.#parts) addCounters(sums, invocation.stats);
    return { ...sums, parts: this.#partCount };
  }

  /** The first part has been read to its end: only its counters are kept, and another part may start. */
  #partRead(): void {
    addCounters(this.#read, (this.#parts.shift() as Part).invocation.stats);
    this.#pump?.wake();
  }

  #startPart(): RemoteInvocation {
    let started: RemoteInvocation | undefined;
    const invocation = this.options.startPart({ wake: () => this.#partWoke(started) });
    started = invocation;
    this.#parts.push({ invocation, firstByte: this.#partStart });
    this.#partCount++;
    this.#notifyReader();
    return invocation;
  }

  /** A part's ring has room, or the part settled. */
  #partWoke(invocation: RemoteInvocation | undefined): void {
    if (invocation?.failed) this.#stop();
    this.#pump?.wake();
  }

  #stop(): void {
    this.#stopped = true;
    this.#notifyReader();
    this.#pump?.wake();
  }

  /** Fails the invocation from this side: every part not yet over stops with `error`. */
  #fail(error: SluiceError): void {
    this.#failure ??= error;
    for (const { invocation } of this.#parts) {
      if (invocation.settled) continue;
      invocation.abort(error);
      invocation.fail(error);
    }
    this.#stop();
  }

  #notifyReader(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  // What the pump asks of its owner.

  settled(): boolean {
    return this.#stopped;
  }

  wakeReader(): void {
    this.#current.wakeReader();
  }

  bodyIdle(): void {
    this.#fail(new BodyIdleTimeoutError(this.options.bodyIdleTimeoutMs / 1000));
  }

  bodyBroken(reason: SluiceError): void {
    // A client that went away reads nothing; one whose body broke is still there to read the refusal.
    if (!(reason instanceof ClientClosedRequestError)) {
      this.#fail(reason);
      return;
    }
    for (const { invocation } of this.#parts) invocation.abort(reason);
    this.#stop();
  }

  // How the pump cuts the body.

  cutIn(chunk: Uint8Array, offset: number): number {
    const length = chunk.byteLength;
    const limit = this.options.maxBodyBytes;
    if (limit !== undefined && this.#bytes + (length - offset) > limit) {
      this.#fail(new PayloadTooLargeError(limit));
      return -1;
    }
    const from = offset + Math.max(0, this.options.partBytes - (this.#bytes - this.#partStart));
    if (from >= length || !this.options.mayCut(this.#runningParts())) {
      this.scanner.skip(offset === 0 ? chunk : chunk.subarray(offset));
      this.#bytes += length - offset;
      return -1;
    }
    if (from > offset) this.scanner.skip(chunk.subarray(offset, from));
    const end = this.scanner.findEnd(chunk.subarray(from));
    if (end === -1) {
      this.#bytes += length - offset;
      return -1;
    }
    const cut = from + end;
    this.#bytes += cut - offset;
    this.#partStart = this.#bytes;
    return cut;
  }

  /** The body's parts still running on codec threads (all unread: a part is read to its end only once over). */
  #runningParts(): number {
    let running = 0;
    for (const { invocation } of this.#parts) if (!invocation.settled) running++;
    return running;
  }

  nextPart(): SharedArrayBuffer | undefined {
    if (!this.options.mayStart(this.#runningParts(), this.#parts.length)) return undefined;
    this.#current = this.#startPart();
    return this.#current.ring;
  }

  bodyEnded(): void {
    this.#bodyEnded = true;
    this.#notifyReader();
  }

  /** The first part not yet read, once it has started; undefined when the body ended without more. */
  async #firstUnread(): Promise<Part | undefined> {
    for (;;) {
      if (this.#parts.length > 0) return this.#parts[0];
      if (this.#failure) throw this.#failure;
      if (this.#bodyEnded) return undefined;
      // (A part that failed stays unread until the reader reaches it and its error.) Every part read, the
      // body stopped short: the client went away.
      if (this.#stopped) throw new ClientClosedRequestError();
      await new Promise<void>((resolve) => {
        this.#wakeReader = resolve;
      });
    }
  }

  async *#answer(): AsyncGenerator<Uint8Array> {
    try {
      for (let part = await this.#firstUnread(); part; part = await this.#firstUnread()) {
        try {
          for await (const chunk of part.invocation.output) {
            if (this.#failure) throw this.#failure;
            yield chunk;
          }
        } catch (error) {
          throw relocated(error, this.#read, part.firstByte);
        }
        this.#partRead();
      }
      if (this.#failure) throw this.#failure;
    } finally {
      // Read to the end, or given up on (a part failed, the client left): stop what still runs.
      for (const { invocation } of this.#parts) invocation.abort(new ClientClosedRequestError());
      this.#stop();
    }
  }
}

/** Counters being summed. */
interface Counters {
  bytesIn: number;
  bytesOut: number;
  records: number;
  failedRecords: number;
  /** The first part's first failed record (with one), located in the whole body. */
  firstFailure: RecordFailure | undefined;
  batches: number;
  /** NaN once a part's framer did not count them. */
  lineFeeds: number;
  readonly stageMs: Record<string, number>;
  readonly batchRows: number[];
}

const emptyCounters = (): Counters => ({
  bytesIn: 0,
  bytesOut: 0,
  records: 0,
  failedRecords: 0,
  firstFailure: undefined,
  batches: 0,
  lineFeeds: 0,
  stageMs: {},
  batchRows: [],
});

/**
 * Adds a part's counters to those of the parts before it. (Its first failure is located exactly when
 * those parts have ended, as they all have once the answer has been read.)
 */
function addCounters(sums: Counters, stats: InvocationStats): void {
  if (sums.firstFailure === undefined && stats.firstFailure !== undefined) {
    const moved = { ...stats.firstFailure };
    moveLocation(moved, sums, sums.bytesIn);
    sums.firstFailure = moved;
  }
  sums.bytesIn += stats.bytesIn;
  sums.bytesOut += stats.bytesOut;
  sums.records += stats.records;
  sums.failedRecords += stats.failedRecords;
  sums.batches += stats.batches;
  sums.lineFeeds += stats.lineFeeds ?? Number.NaN;
  // (One at a time: a whole body's batches may be more than a call takes arguments.)
  for (const rows of stats.batchRows ?? []) sums.batchRows.push(rows);
  for (const [stage, ms] of Object.entries(stats.stageMs)) sums.stageMs[stage] = (sums.stageMs[stage] ?? 0) + (ms ?? 0);
}

/**
 * Moves a record's place in a part (its `recordIndex`, `byteOffset` and `line`, where they are numbers)
 * to its place in the whole body, past the parts counted in `before`, which took `bytesBefore` bytes. Its
 * line is dropped where those parts did not count theirs.
 */
function moveLocation(
  location: { recordIndex?: unknown; byteOffset?: unknown; line?: unknown },
  before: Counters,
  bytesBefore: number,
): void {
  if (typeof location.recordIndex === "number") location.recordIndex += before.records;
  if (typeof location.byteOffset === "number") location.byteOffset += bytesBefore;
  if (typeof location.line === "number") {
    if (Number.isFinite(before.lineFeeds)) location.line += before.lineFeeds;
    else delete location.line;
  }
}

/**
 * `error`, raised by a part that starts at byte `bytesBefore` of the body after the parts counted in
 * `before`, as the whole body's: its record index (in its message too), byte offset and line moved.
 */
function relocated(error: unknown, before: Counters, bytesBefore: number): unknown {
  const recordsBefore = before.records;
  if (!(error instanceof SluiceError) || (recordsBefore === 0 && bytesBefore === 0)) return error;
  const wire = toWire(error);
  const details: Record<string, unknown> = { ...wire.details };
  let message = wire.message;
  const index = details.recordIndex;
  if (typeof index === "number")
    message = message.replace(new RegExp(`\\brecord ${index}\\b`), `record ${index + recordsBefore}`);
  if (typeof details.firstRecordIndex === "number") details.firstRecordIndex += recordsBefore;
  moveLocation(details, before, bytesBefore);
  return fromWire({ ...wire, message, details });
}
