/**
 * Content-Type and Accept headers, read by well-kept parsers rather than by hand: `content-type` for
 * media types (RFC 9110 §8.3: case-insensitive type, quoted parameters), `negotiator` for Accept
 * (§12.5.1: q-values, specificity, and `q=0` meaning "not acceptable", even under a wildcard).
 */
import contentType from "content-type";
import Negotiator from "negotiator";

/** A parsed media type: `essence` is `type/subtype` in lower case; parameter names are lower case. */
export interface MediaType {
  readonly essence: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses one media type with its parameters; `undefined` when it is not a valid `type/subtype`. */
export function parseMediaType(value: string): MediaType | undefined {
  try {
    const parsed = contentType.parse(value);
    return { essence: parsed.type.toLowerCase(), params: { ...parsed.parameters } };
  } catch {
    return undefined;
  }
}

/**
 * The media type of `available` that an Accept header prefers, and the parameters its Accept entry gave
 * (when it named the type exactly); `undefined` when none is acceptable. Ties (a `*∕*`, or no Accept at
 * all) go to the earliest in `available`, so list the preferred answer first.
 */
export function negotiateMediaType(header: string | undefined, available: readonly string[]): MediaType | undefined {
  const accept = header?.trim() ? header : undefined;
  const entries = accept === undefined ? [] : accept.split(",").map(parseMediaType);
  // Parameters other than q say what the client wants of the format (charset, header=present), not
  // which format: negotiate on type and q alone.
  const bare =
    accept === undefined
      ? undefined
      : entries
          .filter((entry) => entry !== undefined)
          .map((entry) => (entry.params.q === undefined ? entry.essence : `${entry.essence};q=${entry.params.q}`))
          .join(",");
  const [chosen] = new Negotiator({ headers: { accept: bare } }).mediaTypes([...available]);
  if (chosen === undefined) return undefined;
  const essence = chosen.toLowerCase();
  const { q: _quality, ...params } = entries.find((entry) => entry?.essence === essence)?.params ?? {};
  return { essence, params };
}
