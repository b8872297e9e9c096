/**
 * ONNX Runtime 1.30 collects telemetry unless `ORT_DISABLE_TELEMETRY=1` is set before it loads: it writes
 * under `$HOME/.cache` and `/tmp`, tries HTTPS uploads, and logs a warning at every start on a read-only
 * or offline machine — all wrong for a batch job in a locked-down account. Every entry point imports this
 * module first (the test runner and the bench too, which load ONNX Runtime in their own processes); a value
 * the user set is left alone.
 */
if (process.env.ORT_DISABLE_TELEMETRY === undefined) process.env.ORT_DISABLE_TELEMETRY = "1";

export {};
