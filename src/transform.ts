/**
 * `sluice transform`: one invocation without HTTP — a file (or standard input) through the same engine
 * and pipeline as `/invocations`, the answer to standard output. For trying a model and a format
 * locally, or for batch runs outside SageMaker.
 */

import { once } from "node:events";
import { createReadStream } from "node:fs";
import type { Writable } from "node:stream";
import { createCodecRegistry } from "./codec/plugin-loader.js";
import type { Config, TransformArgs } from "./config.js";
import { Engine } from "./engine.js";
import type { Logger } from "./log.js";

/** Runs the transform; resolves when the whole answer is written, rejects with the first error. */
export async function runTransform(config: Config, args: TransformArgs, output: Writable, log: Logger): Promise<void> {
  const started = performance.now();
  const engine = new Engine(config, await createCodecRegistry(config.plugins), log);
  await engine.load();
  try {
    const body = args.input === undefined || args.input === "-" ? process.stdin : createReadStream(args.input);
    const invocation = await engine.invoke({
      body: body as AsyncIterable<Uint8Array>,
      contentType: args.contentType,
      accept: args.accept,
      contentLength: undefined,
    });
    try {
      for await (const chunk of invocation.output) {
        if (!output.write(chunk)) await once(output, "drain");
      }
    } finally {
      invocation.release();
    }
    log.info("transformed", {
      input: args.input ?? "-",
      content_type: invocation.contentType,
      bytes_in: invocation.stats.bytesIn,
      bytes_out: invocation.stats.bytesOut,
      records: invocation.stats.records,
      failed_records: invocation.stats.failedRecords || undefined,
      ms: Math.round(performance.now() - started),
    });
  } finally {
    await engine.close();
  }
}
