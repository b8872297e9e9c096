/**
 * The WebGPU backend: ONNX Runtime's WebGPU execution provider (Dawn over Vulkan on Linux), one session
 * on one adapter. A GPU wants fewer, larger batches than the CPU: batches of 4096 records, one run at a
 * time on the device, two invocations suggested so that one decodes while the other runs.
 */
import type { Backend, BackendTuning } from "./backend.js";
import { OnnxSessionPool } from "./onnx-session-pool.js";
import { describeAdapter, probeWebGpuAdapter } from "./webgpu-adapter.js";

/** Options for {@link createWebGpuBackend}. */
export interface WebGpuBackendOptions {
  readonly modelPath: string;
}

/** The WebGPU backend's tuning. */
export const WEBGPU_TUNING: BackendTuning = {
  batchRows: 4096,
  suggestedConcurrentTransforms: 2,
  preferredPayloadMB: 32,
};

/** No WebGPU adapter, or ONNX Runtime could not create a WebGPU session. */
export class WebGpuUnavailableError extends Error {}

/** Loads the model on the WebGPU execution provider; throws `WebGpuUnavailableError` when it cannot. */
export async function createWebGpuBackend(options: WebGpuBackendOptions): Promise<Backend> {
  const probe = await probeWebGpuAdapter();
  if (!probe.available) throw new WebGpuUnavailableError(probe.reason);
  let pool: OnnxSessionPool;
  try {
    pool = await OnnxSessionPool.create({
      modelPath: options.modelPath,
      sessions: 1,
      sessionOptions: {
        // NHWC is what the provider's convolution kernels are fastest in; ORT converts layouts itself.
        executionProviders: [{ name: "webgpu", preferredLayout: "NHWC" }],
        graphOptimizationLevel: "all",
      },
    });
  } catch (cause) {
    throw new WebGpuUnavailableError(`ONNX Runtime could not create a WebGPU session: ${(cause as Error).message}`);
  }
  return {
    kind: "webgpu",
    description: `onnxruntime-node WebGPU provider on ${describeAdapter(probe.info)}; model: ${pool.format}`,
    signature: pool.signature,
    tuning: WEBGPU_TUNING,
    run: (batch, signal) => pool.run(batch, signal),
    close: () => pool.release(),
  };
}
