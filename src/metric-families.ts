/**
 * The counters and histograms every invocation adds to (`sluice_invocations_total`, `sluice_stage_seconds`,
 * …), in Prometheus' text format, kept apart from prom-client's registry. prom-client finds the series an
 * update goes to on every call: it builds a string from the labels and checks each label's name. The
 * eleven updates of one invocation cost about 7 µs that way, a twentieth of what a one-record request
 * costs the main thread. Here a series is found once, by its label values, and updated by additions;
 * `/metrics` serves the registry's text and these families' together.
 */

/** `value` escaped for a label value in the text format: backslash, double quote and line feed. */
const escapeLabelValue = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

/** A number as the text format spells it. */
function sampleValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** Series by their first label value, then their second, …: a lookup joins nothing and allocates nothing. */
type SeriesTree<Series> = Map<string, Series | SeriesTree<Series>>;

/** What both kinds of family share: a name, help, label names, and series found by their label values. */
abstract class Family<Series> {
  readonly #tree: SeriesTree<Series> = new Map();
  /** The series in the order they were made, the order the text lists them. */
  readonly #series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The series for these label values (in the order of {@link labelNames}), made on first use. */
  series(...values: string[]): Series {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(
        `labels ${this.labelNames.join(", ")} take ${this.labelNames.length} value(s), not ${values.length}`,
      );
    }
    let level = this.#tree;
    for (let i = 0; i + 1 < values.length; i++) {
      let next = level.get(values[i]) as SeriesTree<Series> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i], next);
      }
      level = next;
    }
    const last = values.length === 0 ? "" : values[values.length - 1];
    let series = level.get(last) as Series | undefined;
    if (series === undefined) {
      series = this.make(this.labelNames.map((name, i) => `${name}="${escapeLabelValue(values[i])}"`).join(","));
      level.set(last, series);
      this.#series.push(series);
    }
    return series;
  }

  /** A new series whose labels are `labels` (`name="value",…`). */
  protected abstract make(labels: string): Series;

  /** The family in the text format: its `# HELP` and `# TYPE` lines, then each series' samples. */
  abstract text(): string;

  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${this.name} ${type}\n`;
  }

  protected everySeries(): readonly Series[] {
    return this.#series;
  }
}

/** One counter series. */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: string) {}

  inc(by = 1): void {
    this.value += by;
  }
}

/** A counter and its series. A family without labels has its one series, at 0, from the start. */
export class CounterFamily extends Family<CounterSeries> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.series();
  }

  protected make(labels: string): CounterSeries {
    return new CounterSeries(labels);
  }

  text(): string {
    let text = this.header("counter");
    for (const series of this.everySeries()) {
      text += `${this.name}${series.labels === "" ? "" : `{${series.labels}}`} ${sampleValue(series.value)}\n`;
    }
    return text;
  }
}

/** One histogram series: observations counted in the family's buckets. */
export class HistogramSeries {
  /** Observations at most each upper bound and above the one before (not cumulative). */
  readonly #counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: string,
    private readonly upperBounds: readonly number[],
  ) {
    this.#counts = new Float64Array(upperBounds.length);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]) bucket++;
    if (bucket < bounds.length) this.#counts[bucket]++;
    this.sum += value;
    this.count++;
  }

  /** Observations in the `bucket`th bucket alone: at most its upper bound, above the one before. */
  bucketCount(bucket: number): number {
    return this.#counts[bucket];
  }
}

/** A histogram and its series, with the same upper bounds for every series. */
export class HistogramFamily extends Family<HistogramSeries> {
  readonly #upperBounds: readonly number[];

  constructor(name: string, help: string, upperBounds: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    this.#upperBounds = [...upperBounds].sort((a, b) => a - b);
  }

  protected make(labels: string): HistogramSeries {
    return new HistogramSeries(labels, this.#upperBounds);
  }

  text(): string {
    let text = this.header("histogram");
    for (const series of this.everySeries()) {
      const rest = series.labels === "" ? "" : `,${series.labels}`;
      let cumulative = 0;
      this.#upperBounds.forEach((bound, bucket) => {
        cumulative += series.bucketCount(bucket);
        text += `${this.name}_bucket{le="${sampleValue(bound)}"${rest}} ${cumulative}\n`;
      });
      text += `${this.name}_bucket{le="+Inf"${rest}} ${series.count}\n`;
      const labels = series.labels === "" ? "" : `{${series.labels}}`;
      text += `${this.name}_sum${labels} ${sampleValue(series.sum)}\n`;
      text += `${this.name}_count${labels} ${series.count}\n`;
    }
    return text;
  }
}
