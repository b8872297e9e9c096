/**
 * Sluice's main thread starts with a floor under its old generation (`--initial-old-space-size`, given
 * on Node's command line with the other server flags): below it V8 skips full collections. The main
 * thread receives every request body, and each socket chunk is a fresh buffer whose bytes V8 counts
 * against the old generation's limit until a scavenge frees it; without the floor the limit sits a few
 * megabytes above the small live heap and the main thread runs a full collection every ~0.1 s under
 * load. Worker threads do not receive sockets and keep V8's own sizing: the flag is cleared before the
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
