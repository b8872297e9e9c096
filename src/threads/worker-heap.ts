/**
 * Sluice's main thread starts with a floor under its old generation (`--initial-old-space-size`, given
 * on Node's command line with the other server flags): below it V8 skips full collections. The main
 * thread receives every request body, each socket chunk in a fresh buffer, and V8 counts such external
 * memory against the old generation's limit; without the floor that limit sits a few megabytes above
 * the ~10 MB live heap (V8's GC trace: marking starts at 10 of 18 MB) and the main thread ran a full
 * collection every ~0.1 s under load. Where worker threads do not receive sockets they keep V8's own
 * sizing: the flag is cleared before the first one starts. Where codec threads accept connections
 * themselves (`SLUICE_ACCEPT=every-thread`) they receive the bodies as the main thread does, and keep the
 * floor: without it each ran 2–3 full collections a second under the tabular load (56 in 10 s for two).
 *
 * Codec threads get a small young generation too ({@link CODEC_THREAD_RESOURCE_LIMITS}).
 */
import v8 from "node:v8";

/**
 * The codec threads' heap limits: a young generation (new space) of at most 4 MB, where V8 lets a
 * worker's grow to 32. V8 starts a full collection whenever the old generation has less room left than
 * the young one could promote into it: with a codec thread's ~10 MB live heap and ~16 MB of room, under
 * load all the time. Its GC trace under the tabular benchmark (two bodies at once) showed 13–18 full
 * collections in 15 s per codec thread, each with ~15 ms of marking, set off by the churn of answer
 * buffers and model outputs (external memory) more than by garbage on the heap. Capped, each thread ran
 * one, and about 40 scavenges of a millisecond or two; codec threads then needed 4–7% less CPU per record
 * (six alternating turns, tabular CSV and JSON), and the server's RSS under that load fell by 35–45 MB
 * (two codec threads).
 */
export const CODEC_THREAD_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4 } as const;

let settled = false;

/**
 * Settles, before the first worker thread starts, whether worker threads keep the main thread's heap
 * floor: only where they receive sockets. The first call decides for the process's life: V8 reads the
 * flag as each thread creates its heap, on that thread, so changing it while one may be starting would
 * race. Codec threads start before the inference threads, and so decide.
 */
export function settleWorkerHeapSizing(workersReceiveSockets: boolean): void {
  if (settled) return;
  settled = true;
  if (!workersReceiveSockets) v8.setFlagsFromString("--initial-old-space-size=0");
}
