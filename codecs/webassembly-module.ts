/**
 * Loading one of the codecs' bundled WebAssembly modules (compiled from `assembly/` folders by
 * `npm run build:wasm`) with its memory: each thread that imports a codec gets its own instance.
 *
 * The memory is made here at its full size and never grows: growing detaches the old buffer, and once
 * any buffer has been detached V8 checks for it on every typed-array access in the thread (CSV parsing
 * in the same thread ran 10% slower).
 */
import { readFileSync } from "node:fs";

/** What is used here of WebAssembly (TypeScript declares it only in its DOM library). */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
  readonly Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
}
const { Module, Instance, Memory } = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** A WebAssembly page. */
export const PAGE = 65536;

/** An instance of a bundled module and the bytes of its memory. */
export interface LoadedModule<Exports> {
  readonly exports: Exports;
  readonly memory: ArrayBuffer;
}

/** Instantiates the module at `url` with a memory of `pages` pages that it imports as `env.memory`. */
export function loadWebAssembly<Exports>(url: URL, pages: number): LoadedModule<Exports> {
  const memory = new Memory({ initial: pages, maximum: pages });
  const instance = new Instance(new Module(readFileSync(url)), { env: { memory } });
  return { exports: instance.exports as Exports, memory: memory.buffer };
}
