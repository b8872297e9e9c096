/**
 * Parsing of Content-Type and Accept header values (RFC 9110 §8.3, §12.5.1): types compare
 * case-insensitively; parameters are kept for the codec; q-values order the Accept list.
 */

/** A parsed media type: `essence` is `type/subtype` in lower case. */
export interface MediaType {
  readonly essence: string;
  readonly params: Readonly<Record<string, string>>;
}

/** One entry of an Accept header. */
export interface AcceptEntry extends MediaType {
  /** Preference weight from `q=`, 1 when absent. */
  readonly quality: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' && text[i - 1] !== "\\") quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Parses one media type with its parameters; returns `undefined` when it is not `type/subtype`. */
export function parseMediaType(value: string): MediaType | undefined {
  const [head, ...rawParams] = splitOutsideQuotes(value, ";");
  const essence = head.trim().toLowerCase();
  const slash = essence.indexOf("/");
  if (slash <= 0 || slash === essence.length - 1) return undefined;
  if (!TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) return undefined;
  const params: Record<string, string> = {};
  for (const raw of rawParams) {
    const eq = raw.indexOf("=");
    if (eq < 0) continue;
    const name = raw.slice(0, eq).trim().toLowerCase();
    let paramValue = raw.slice(eq + 1).trim();
    if (paramValue.startsWith('"') && paramValue.endsWith('"') && paramValue.length >= 2) {
      paramValue = paramValue.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    if (name) params[name] = paramValue;
  }
  return { essence, params };
}

/**
 * Parses an Accept header into entries sorted by preference: higher q first, then more specific
 * (`text/csv` before `text/*` before `*∕*`), then header order. Entries with q=0 are dropped.
 */
export function parseAccept(value: string | undefined): AcceptEntry[] {
  if (value === undefined || value.trim() === "") return [{ essence: "*/*", params: {}, quality: 1 }];
  const entries: (AcceptEntry & { position: number; specificity: number })[] = [];
  splitOutsideQuotes(value, ",").forEach((part, position) => {
    const parsed = parseMediaType(part);
    if (!parsed) return;
    const { q, ...params } = parsed.params;
    const quality = q === undefined ? 1 : Number(q);
    if (!Number.isFinite(quality) || quality <= 0) return;
    const specificity = parsed.essence === "*/*" ? 0 : parsed.essence.endsWith("/*") ? 1 : 2;
    entries.push({ essence: parsed.essence, params, quality: Math.min(quality, 1), position, specificity });
  });
  entries.sort((a, b) => b.quality - a.quality || b.specificity - a.specificity || a.position - b.position);
  return entries.map(({ essence, params, quality }) => ({ essence, params, quality }));
}
