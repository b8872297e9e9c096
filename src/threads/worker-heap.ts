/**
 * Sluice's main thread starts with a floor under its old generation (`--initial-old-space-size`, given
 * on Node's command line with the other server flags): below it V8 skips full collections. The main
 * thread receives every request body, each socket chunk in a fresh buffer, and V8 counts such external
 * memory against the old generation's limit; without the floor that limit sits a few megabytes above
 * the ~10 MB live heap (V8's GC trace: marking starts at 10 of 18 MB) and the main thread ran a full
 * collection every ~0.1 s under load. Worker threads do not receive sockets and keep V8's own sizing: the flag is cleared before the
 * first one starts, since V8 reads it when each thread's heap is created.
 */
import v8 from "node:v8";

let cleared = false;

/** Clears the main thread's heap floor for the worker threads started after this call. */
export function useDefaultHeapSizingForWorkers(): void {
  if (cleared) return;
  v8.setFlagsFromString("--initial-old-space-size=0");
  cleared = true;
}
