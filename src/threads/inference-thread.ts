/**
 * The inference thread (a worker): it loads the model once and runs the batches that codec threads send
 * over their ports, so the weights are in memory once and the main thread never blocks on a run
 * (onnxruntime-node runs synchronously on the calling thread).
 */
import "../telemetry.js";
import { type MessagePort, parentPort } from "node:worker_threads";
import { AbortControllerPool } from "../abort-controller-pool.js";
import type { Backend } from "../backends/backend.js";
import { selectBackend } from "../backends/select-backend.js";
import type { InputBatch } from "../batcher.js";
import type { ModelSignature } from "../model/signature.js";
import { toWire } from "./error-transport.js";
import {
  type FromInferenceHost,
  type FromInferenceThread,
  type ToInferenceHost,
  type ToInferenceThread,
  transferList,
} from "./messages.js";
import { sessionsOf } from "./model-sessions.js";
import { kernelThreadId } from "./thread-cpu.js";
import { ThreadLogger } from "./thread-logger.js";

if (!parentPort) throw new Error("inference-thread.js runs as a worker thread");
const host = parentPort;
const log = new ThreadLogger(host);
let backend: Backend | undefined;

const post = (message: FromInferenceHost) => host.postMessage(message);

/** Runs the batches one codec thread sends, answering each on the same port. */
function serve(port: MessagePort, model: Backend): void {
  const cancels = new Map<number, AbortController>();
  // A controller whose batch ended unaborted serves a later batch (see `abort-controller-pool.ts`).
  const unused = new AbortControllerPool();
  port.on("message", (message: ToInferenceThread) => {
    if (message.type === "cancel") {
      cancels.get(message.batch)?.abort(new Error("batch cancelled"));
      return;
    }
    const cancel = unused.take();
    cancels.set(message.batch, cancel);
    const batch: InputBatch = {
      rows: message.rows,
      firstRecordIndex: message.firstRecordIndex,
      inputs: message.inputs,
      recordErrors: new Map(),
      isolateFailures: message.isolateFailures,
    };
    const reply = (answer: FromInferenceThread, transfer: ArrayBuffer[]) => {
      cancels.delete(message.batch);
      unused.giveBack(cancel);
      port.postMessage(answer, transfer);
    };
    const inputBuffers = transferList(message.inputs);
    model.run(batch, cancel.signal).then(
      ({ outputs, failedRows }) => {
        const wire = outputs.map((output) => ({ data: output.data, width: output.width }));
        const outputBuffers = transferList(wire.map((output) => output.data)).filter(
          (buffer) => !inputBuffers.includes(buffer),
        );
        reply({ type: "result", batch: message.batch, outputs: wire, failedRows, inputs: message.inputs }, [
          ...inputBuffers,
          ...outputBuffers,
        ]);
      },
      (error: unknown) => {
        reply({ type: "failed", batch: message.batch, error: toWire(error), inputs: message.inputs }, inputBuffers);
      },
    );
  });
}

host.on("message", (message: ToInferenceHost) => {
  switch (message.type) {
    case "load": {
      const { request } = message;
      const budget = request.sessionBudget;
      const sessionsOnOneThread =
        budget &&
        ((recordMicroseconds: number, signature: ModelSignature) =>
          sessionsOf(budget, request.modelPath, { signature, intraOpThreads: 1, recordMicroseconds }).sessions);
      selectBackend({ ...request, choice: request.backend, sessionsOnOneThread, log }).then(
        (loaded) => {
          backend = loaded;
          const { kind, description, signature, tuning, intraOpThreads, recordMicroseconds } = loaded;
          post({
            type: "loaded",
            model: { kind, description, signature, tuning, intraOpThreads, recordMicroseconds },
            tid: kernelThreadId(),
          });
        },
        (error: unknown) => post({ type: "load-failed", error: toWire(error) }),
      );
      return;
    }
    case "connect":
      if (!backend) throw new Error("a codec thread connected before the model was loaded");
      serve(message.port, backend);
      return;
    case "close":
      (backend?.close() ?? Promise.resolve()).finally(() => {
        post({ type: "closed" });
        // Ends this thread only (and with it every codec thread's port to it).
        process.exit(0);
      });
  }
});
