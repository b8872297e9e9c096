/**
 * Makes a plugin's imports of the `sluice` package resolve to this running Sluice (an ESM resolve hook,
 * one per thread that loads plugins). So a plugin needs no copy of Sluice of its own — in the image Sluice is an
 * application in /opt/sluice, in no `node_modules` a plugin could find — and never loads a second one
 * whose classes would differ from the server's.
 */
import { register } from "node:module";

let registered = false;

/** The modules the `sluice` package exports, by specifier. */
export function sluiceSpecifiers(): Record<string, string> {
  return {
    sluice: new URL("../index.js", import.meta.url).href,
    "sluice/codec-kit": new URL("../../codecs/kit.js", import.meta.url).href,
    "sluice/codecs": new URL("../../codecs/index.js", import.meta.url).href,
    "sluice/testing": new URL("../testing/index.js", import.meta.url).href,
  };
}

/** Installs the hook in this thread (once). */
export function resolveSluiceForPlugins(): void {
  if (registered) return;
  registered = true;
  register(new URL("./sluice-specifier-hooks.js", import.meta.url), { data: { specifiers: sluiceSpecifiers() } });
}
