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

/** The memory object itself, opaque here: only passed on to another module that shares it. */
type MemoryObject = { readonly buffer: ArrayBuffer };

/** An instance of a bundled module and the bytes of its memory. */
export interface LoadedModule<Exports> {
  readonly exports: Exports;
  readonly memory: ArrayBuffer;
  /** The memory as imported, for a module that shares it ({@link loadWebAssemblySharing}). */
  readonly imported: MemoryObject;
}

/** Instantiates the module at `url` with a memory of `pages` pages that it imports as `env.memory`. */
export function loadWebAssembly<Exports>(url: URL, pages: number): LoadedModule<Exports> {
  return instantiate(url, new Memory({ initial: pages, maximum: pages }));
}

/** Instantiates the module at `url` with the memory `other` imports, which both then work in. */
export function loadWebAssemblySharing<Exports>(url: URL, other: LoadedModule<unknown>): LoadedModule<Exports> {
  return instantiate(url, other.imported);
}

function instantiate<Exports>(url: URL, memory: MemoryObject): LoadedModule<Exports> {
  const instance = new Instance(new Module(readFileSync(url)), { env: { memory } });
  return { exports: instance.exports as Exports, memory: memory.buffer, imported: memory };
}
