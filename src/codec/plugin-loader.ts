/**
 * Loads codec modules — the built-in set and third-party plugins alike — and registers their codecs with
 * their settings. A plugin is named by a file path, a directory holding a `package.json`, or a package
 * name (resolved from the working directory, then the model directory). Inside a plugin, imports of the
 * `sluice` package (and of `sluice/codec-kit`, `sluice/codecs`, `sluice/testing`) resolve to this running
 * Sluice wherever the plugin sits — in the image too, where Sluice is an application, not a package.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.js";
import { CODEC_API_VERSION, type Codec, type CodecSetting } from "./codec.js";
import { CodecRegistry } from "./registry.js";
import { resolveSluiceForPlugins } from "./sluice-specifiers.js";

/** What a plugin module exports: `export default` one codec or an array of codecs. */
export interface CodecPluginModule {
  readonly default: Codec | readonly Codec[];
}

/** The module holding Sluice's own codecs; it is loaded like any plugin. */
export const BUILTIN_CODECS_MODULE = new URL("../../codecs/index.js", import.meta.url).href;

/** Where plugins come from and what configures them. */
export interface PluginSources {
  /** Plugins named by `SLUICE_PLUGINS` (resolved from the working directory). */
  readonly plugins?: readonly string[];
  /** Plugins named by `sluice.json`'s `codecs` (resolved from the model directory). */
  readonly modelPlugins?: readonly string[];
  /** The model directory, for `modelPlugins` and package names. */
  readonly modelDir?: string;
  /** The environment, for `SLUICE_CODEC_<NAME>_<KEY>` settings. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `sluice.json`'s `codecSettings`: codec name → key → value. */
  readonly codecSettings?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const isCodec = (value: unknown): value is Codec =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Codec).name === "string" &&
  Array.isArray((value as Codec).mediaTypes) &&
  ((value as Codec).input !== undefined || (value as Codec).output !== undefined);

/** The variable that sets a codec's setting: `SLUICE_CODEC_<NAME>_<KEY>`. */
export function settingVariable(codec: string, key: string): string {
  const part = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
  return `SLUICE_CODEC_${part(codec)}_${part(key)}`;
}

/** The module a package directory exports (its `exports["."]`, `exports`, `main`, or `index.js`). */
function packageEntry(dir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
    exports?: unknown;
    main?: string;
  };
  let entry: unknown = manifest.exports;
  if (entry && typeof entry === "object" && "." in entry) entry = (entry as Record<string, unknown>)["."];
  if (entry && typeof entry === "object") {
    const conditions = entry as Record<string, unknown>;
    entry = conditions.import ?? conditions.node ?? conditions.default;
  }
  const relative = typeof entry === "string" ? entry : (manifest.main ?? "index.js");
  return path.join(dir, relative);
}

/** The file a plugin specifier names, looked for from `bases` in order. */
function resolvePlugin(specifier: string, bases: readonly string[]): string {
  if (specifier.startsWith("file:")) return new URL(specifier).pathname;
  const isPath = specifier.startsWith(".") || specifier.startsWith("/");
  for (const base of bases) {
    if (isPath) {
      const full = path.resolve(base, specifier);
      if (!existsSync(full)) continue;
      return statSync(full).isDirectory() ? packageEntry(full) : full;
    }
    // A package name: node_modules/<name> in the base directory or any above it.
    for (let dir = path.resolve(base); ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, "node_modules", specifier);
      if (existsSync(path.join(candidate, "package.json"))) return packageEntry(candidate);
      if (path.dirname(dir) === dir) break;
    }
  }
  // A bare name that is no package may still be a path written without "./".
  if (!isPath) {
    for (const base of bases)
      if (existsSync(path.resolve(base, specifier))) return resolvePlugin(`./${specifier}`, [base]);
  }
  throw new ConfigError(
    `codec plugin ${specifier} could not be loaded: not found (looked from ${bases.join(" and ")})`,
  );
}

/** A codec's settings: each declared key from the environment, else `sluice.json`, else its default. */
function settingsOf(codec: Codec, sources: PluginSources, origin: string): Record<string, string> {
  const declared: Readonly<Record<string, CodecSetting>> = codec.settings ?? {};
  const fromModel = sources.codecSettings?.[codec.name] ?? {};
  for (const key of Object.keys(fromModel)) {
    if (!(key in declared)) {
      throw new ConfigError(`sluice.json: codec ${codec.name} (${origin}) has no setting "${key}"`);
    }
  }
  const settings: Record<string, string> = {};
  for (const [key, setting] of Object.entries(declared)) {
    const variable = settingVariable(codec.name, key);
    const raw = sources.env?.[variable] ?? fromModel[key] ?? setting.default;
    if (raw === undefined) continue;
    if (setting.allowed && !setting.allowed.includes(raw)) {
      throw new ConfigError(`${variable}=${JSON.stringify(raw)} is not one of ${setting.allowed.join(", ")}`);
    }
    settings[key] = raw;
  }
  return settings;
}

/**
 * Imports each module and registers what it exports with its settings. A module that cannot be found or
 * loaded, exports no codec, or declares an API version this Sluice does not serve is a one-line
 * `ConfigError` naming it.
 */
export async function loadCodecPlugins(
  registry: CodecRegistry,
  specifiers: readonly string[],
  options: { builtIn?: boolean; bases?: readonly string[] } & PluginSources = {},
): Promise<void> {
  // Only where there are plugins: the hook runs on a thread of its own (an isolate, ~8 MB), in every thread
  // that registers it.
  if (!options.builtIn && specifiers.length > 0) resolveSluiceForPlugins();
  for (const specifier of specifiers) {
    const url = options.builtIn
      ? specifier
      : pathToFileURL(resolvePlugin(specifier, options.bases ?? [process.cwd()])).href;
    let module: Partial<CodecPluginModule>;
    try {
      module = await import(url);
    } catch (cause) {
      throw new ConfigError(`codec plugin ${specifier} could not be loaded: ${(cause as Error).message}`);
    }
    const exported = module.default;
    const codecs = Array.isArray(exported) ? exported : [exported];
    if (codecs.length === 0 || !codecs.every(isCodec)) {
      throw new ConfigError(`codec plugin ${specifier} must export default a Codec or an array of Codecs`);
    }
    const origin = options.builtIn ? "built-in" : specifier;
    for (const codec of codecs) {
      if (codec.apiVersion !== CODEC_API_VERSION) {
        throw new ConfigError(
          `codec plugin ${specifier}: codec ${codec.name} was written for plugin API version ${String(codec.apiVersion)}; ` +
            `this Sluice serves version ${CODEC_API_VERSION}`,
        );
      }
      registry.register(codec, { builtIn: options.builtIn, origin, settings: settingsOf(codec, options, origin) });
    }
  }
}

/** A `SLUICE_CODEC_…` variable that no codec declares is a typo: refuse it rather than ignore it. */
function checkSettingVariables(registry: CodecRegistry, env: Readonly<Record<string, string | undefined>>): void {
  const known = new Set(
    registry.codecs.flatMap((codec) =>
      Object.keys(codec.settings ?? {}).map((key) => settingVariable(codec.name, key)),
    ),
  );
  for (const name of Object.keys(env)) {
    if (name.startsWith("SLUICE_CODEC_") && !known.has(name) && env[name] !== undefined) {
      throw new ConfigError(`${name} names no setting of an installed codec (${[...known].join(", ") || "none"})`);
    }
  }
}

/** A registry holding the built-in codecs and then the plugins (which may replace them). */
export async function createCodecRegistry(sources: PluginSources = {}): Promise<CodecRegistry> {
  const registry = new CodecRegistry();
  await loadCodecPlugins(registry, [BUILTIN_CODECS_MODULE], { ...sources, builtIn: true });
  const cwd = process.cwd();
  const modelDir = sources.modelDir;
  await loadCodecPlugins(registry, sources.plugins ?? [], { ...sources, bases: modelDir ? [cwd, modelDir] : [cwd] });
  if (modelDir) await loadCodecPlugins(registry, sources.modelPlugins ?? [], { ...sources, bases: [modelDir] });
  checkSettingVariables(registry, sources.env ?? {});
  return registry;
}
