/**
 * The JSONPath subset SageMaker's DataProcessing filters accept: `$`, `.name`, `*`, `['a','b']`, `[n]`,
 * `[n,m]`, `[start:end]` (either bound may be left out), and unions of these in one bracket
 * (`$[0,5:]`). Selecting several items yields an array of them (from an object, an object of the chosen
 * keys); an index beyond the value's size is an error, as on the platform.
 */
import { ConfigError } from "../errors.js";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Selector =
  | { readonly kind: "key"; readonly key: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "slice"; readonly start: number | undefined; readonly end: number | undefined }
  | { readonly kind: "all" };

/** One step: a single selector picks one item; several (or a slice, or `*`) pick a list of items. */
interface Step {
  readonly selectors: readonly Selector[];
  readonly many: boolean;
}

/** A compiled path. */
export interface JsonPath {
  readonly text: string;
  /** Applies the path; throws `JsonPathError` when the value has no such item. */
  select(value: Json): Json;
}

/** A record that does not have what a filter selects. */
export class JsonPathError extends Error {}

function parseBracket(body: string, path: string): Selector[] {
  return body.split(",").map((raw): Selector => {
    const part = raw.trim();
    if (part === "*") return { kind: "all" };
    const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(part);
    if (quoted) return { kind: "key", key: quoted[1] ?? quoted[2] };
    const slice = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(part);
    if (slice) {
      return {
        kind: "slice",
        start: slice[1] === undefined ? undefined : Number(slice[1]),
        end: slice[2] === undefined ? undefined : Number(slice[2]),
      };
    }
    if (/^-?\d+$/.test(part)) return { kind: "index", index: Number(part) };
    throw new ConfigError(`JSONPath ${JSON.stringify(path)}: cannot read [${body}]`);
  });
}

/** Compiles a filter; throws `ConfigError` for anything outside the platform's subset. */
export function compileJsonPath(text: string): JsonPath {
  const path = text.trim();
  if (!path.startsWith("$")) throw new ConfigError(`JSONPath ${JSON.stringify(text)} must start with $`);
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] === ".") {
      const name = /^[A-Za-z_$][\w$-]*|^\*/.exec(path.slice(i + 1))?.[0];
      if (!name) throw new ConfigError(`JSONPath ${JSON.stringify(text)}: a name must follow "." at ${i}`);
      steps.push(
        name === "*"
          ? { selectors: [{ kind: "all" }], many: true }
          : { selectors: [{ kind: "key", key: name }], many: false },
      );
      i += 1 + name.length;
    } else if (path[i] === "[") {
      const close = path.indexOf("]", i);
      if (close < 0) throw new ConfigError(`JSONPath ${JSON.stringify(text)}: "[" is not closed`);
      const selectors = parseBracket(path.slice(i + 1, close), text);
      const many = selectors.length > 1 || selectors.some((s) => s.kind === "slice" || s.kind === "all");
      steps.push({ selectors, many });
      i = close + 1;
    } else {
      throw new ConfigError(`JSONPath ${JSON.stringify(text)}: unexpected ${JSON.stringify(path[i])} at ${i}`);
    }
  }
  return { text: path, select: (value) => selectSteps(value, steps, 0) };
}

function pick(value: Json, selector: Selector): { keys: (string | number)[]; items: Json[] } {
  if (selector.kind === "key") {
    if (value === null || typeof value !== "object" || Array.isArray(value) || !(selector.key in value)) {
      throw new JsonPathError(`the record has no key ${JSON.stringify(selector.key)}`);
    }
    return { keys: [selector.key], items: [value[selector.key]] };
  }
  if (selector.kind === "all") {
    if (Array.isArray(value)) return { keys: value.map((_, k) => k), items: value };
    if (value !== null && typeof value === "object") return { keys: Object.keys(value), items: Object.values(value) };
    throw new JsonPathError("* selects from an array or an object");
  }
  if (!Array.isArray(value)) throw new JsonPathError("an index selects from an array");
  if (selector.kind === "index") {
    const index = selector.index < 0 ? value.length + selector.index : selector.index;
    if (index < 0 || index >= value.length) {
      throw new JsonPathError(`index ${selector.index} is beyond the record's ${value.length} item(s)`);
    }
    return { keys: [index], items: [value[index]] };
  }
  const clamp = (bound: number) => Math.max(0, Math.min(value.length, bound < 0 ? value.length + bound : bound));
  const start = clamp(selector.start ?? 0);
  const end = clamp(selector.end ?? value.length);
  const keys: number[] = [];
  for (let k = start; k < end; k++) keys.push(k);
  return { keys, items: keys.map((k) => value[k]) };
}

function selectSteps(value: Json, steps: readonly Step[], from: number): Json {
  if (from === steps.length) return value;
  const step = steps[from];
  if (!step.many) return selectSteps(pick(value, step.selectors[0]).items[0], steps, from + 1);
  const chosen = step.selectors.map((selector) => pick(value, selector));
  // Keys picked from an object stay an object; anything else becomes an array.
  if (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    step.selectors.every((s) => s.kind === "key")
  ) {
    const object: { [key: string]: Json } = {};
    for (const { keys, items } of chosen) object[String(keys[0])] = selectSteps(items[0], steps, from + 1);
    return object;
  }
  return chosen.flatMap(({ items }) => items.map((item) => selectSteps(item, steps, from + 1)));
}
