/**
 * Loads codec modules (the built-in set and third-party plugins alike) and registers their codecs.
 */
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.js";
import type { Codec } from "./codec.js";
import { CodecRegistry } from "./registry.js";

/** What a plugin module exports: `export default` one codec or an array of codecs. */
export interface CodecPluginModule {
  readonly default: Codec | readonly Codec[];
}

/** The module holding Sluice's own codecs; it is loaded like any plugin. */
export const BUILTIN_CODECS_MODULE = new URL("../../codecs/index.js", import.meta.url).href;

const isCodec = (value: unknown): value is Codec =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Codec).name === "string" &&
  Array.isArray((value as Codec).mediaTypes) &&
  ((value as Codec).input !== undefined || (value as Codec).output !== undefined);

function specifierUrl(specifier: string): string {
  // Relative and absolute paths are files; anything else is a package name resolved by Node.
  if (specifier.startsWith(".") || specifier.startsWith("/")) return pathToFileURL(specifier).href;
  return specifier;
}

/**
 * Imports each module and registers what it exports; a module that exports no codec is a `ConfigError`.
 *
 * @param options.builtIn Registers the codecs as built in, so that plugins loaded later may replace them.
 */
export async function loadCodecPlugins(
  registry: CodecRegistry,
  specifiers: readonly string[],
  options: { builtIn?: boolean } = {},
): Promise<void> {
  for (const specifier of specifiers) {
    let module: Partial<CodecPluginModule>;
    try {
      module = await import(specifierUrl(specifier));
    } catch (cause) {
      throw new ConfigError(`codec plugin ${specifier} could not be loaded: ${(cause as Error).message}`);
    }
    const exported = module.default;
    const codecs = Array.isArray(exported) ? exported : [exported];
    if (codecs.length === 0 || !codecs.every(isCodec)) {
      throw new ConfigError(`codec plugin ${specifier} must export default a Codec or an array of Codecs`);
    }
    for (const codec of codecs) registry.register(codec, options);
  }
}

/** A registry holding the built-in codecs and then the plugins named in `plugins` (which may replace them). */
export async function createCodecRegistry(plugins: readonly string[]): Promise<CodecRegistry> {
  const registry = new CodecRegistry();
  await loadCodecPlugins(registry, [BUILTIN_CODECS_MODULE], { builtIn: true });
  await loadCodecPlugins(registry, plugins);
  return registry;
}
