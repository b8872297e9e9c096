/**
 * A record sink whose next record has already been begun: the JSON decoder begins a record for its
 * quickest path and, when that path cannot read the row, hands the same slots to the general one.
 */
import type { ModelSignature, RecordSink, RecordSlots } from "../../src/index.js";

/** Gives out `slots`, already begun on `sink`, as the next record; later records come from `sink`. */
export class BegunRecord implements RecordSink {
  #sink: RecordSink | undefined;
  #slots: RecordSlots | undefined;

  /** Holds `slots`, the record just begun on `sink`, for the next {@link beginRecord}; returns itself. */
  hold(sink: RecordSink, slots: RecordSlots): this {
    this.#sink = sink;
    this.#slots = slots;
    return this;
  }

  get signature(): ModelSignature {
    return this.#held().signature;
  }

  get nextRecordIndex(): number {
    return this.#held().nextRecordIndex - (this.#slots ? 1 : 0);
  }

  beginRecord(): RecordSlots {
    const slots = this.#slots;
    if (!slots) return this.#held().beginRecord();
    this.#slots = undefined;
    return slots;
  }

  #held(): RecordSink {
    if (!this.#sink) throw new Error("BegunRecord used before hold()");
    return this.#sink;
  }
}
