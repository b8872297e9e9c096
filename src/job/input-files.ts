/**
 * The input of a transform job: a file, every file under a directory (recursively, in name order, as
 * the platform lists an S3 prefix), or standard input; each with its media type (given, or guessed from
 * the extension, including extensions that plugin codecs declare) and where its `.out` goes.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { CodecRegistry } from "../codec/registry.js";
import { ConfigError } from "../errors.js";

/** One input object. */
export interface InputFile {
  /** The file, or `-` for standard input. */
  readonly path: string;
  /** Its path under the input root (the output keeps the same layout). */
  readonly relative: string;
  /** Bytes, when known. */
  readonly size: number | undefined;
  readonly contentType: string;
}

/** Media types of the extensions Sluice's own codecs read. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  ".csv": "text/csv",
  ".json": "application/json",
  ".jsonl": "application/jsonlines",
  ".jsonlines": "application/jsonlines",
  ".rec": "application/x-recordio-protobuf",
  ".recordio": "application/x-recordio-protobuf",
  ".pbr": "application/x-recordio-protobuf",
  ".tfrecord": "application/x-tfrecord",
  ".tfrecords": "application/x-tfrecord",
};

function guessType(file: string, registry: CodecRegistry, gzip: boolean): string | undefined {
  const name = gzip && file.toLowerCase().endsWith(".gz") ? file.slice(0, -3) : file;
  const extension = path.extname(name).toLowerCase();
  for (const codec of registry.codecs) {
    if (codec.input && codec.extensions?.some((e) => e.toLowerCase() === extension)) return codec.mediaTypes[0];
  }
  return EXTENSIONS[extension];
}

function walk(dir: string, skip: string | undefined): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path.resolve(full) !== skip) found.push(...walk(full, skip));
    } else if (entry.isFile() && !entry.name.startsWith(".")) found.push(full);
  }
  return found;
}

/**
 * Lists the job's inputs; throws `ConfigError` for a missing path or a file whose type cannot be told.
 * An output directory inside the input directory is passed over: a job run again must not read the
 * `.out` files of the run before as inputs. With `gzip`, a `.gz` ending is looked past (`a.csv.gz` is CSV).
 */
export function listInputs(
  input: string,
  contentType: string | undefined,
  registry: CodecRegistry,
  outputDir?: string,
  gzip = false,
): InputFile[] {
  const typed = (file: string): string => {
    const type = contentType ?? guessType(file, registry, gzip);
    if (type) return type;
    const hint =
      !gzip && file.toLowerCase().endsWith(".gz") ? " (for gzip-compressed inputs, --compression-type Gzip)" : "";
    throw new ConfigError(`cannot tell the media type of ${file} from its extension; give --content-type${hint}`);
  };
  if (input === "-") {
    if (!contentType) throw new ConfigError("standard input needs --content-type");
    return [{ path: "-", relative: "stdin", size: undefined, contentType }];
  }
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(input);
  } catch {
    throw new ConfigError(`--input ${input} does not exist`);
  }
  if (stat.isFile())
    return [{ path: input, relative: path.basename(input), size: stat.size, contentType: typed(input) }];
  const files = walk(input, outputDir === undefined || outputDir === "-" ? undefined : path.resolve(outputDir));
  if (files.length === 0) throw new ConfigError(`--input ${input} holds no files`);
  return files.map((file) => ({
    path: file,
    relative: path.relative(input, file),
    size: statSync(file).size,
    contentType: typed(file),
  }));
}
