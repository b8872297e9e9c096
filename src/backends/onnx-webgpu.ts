/**
 * The WebGPU backend: ONNX Runtime's WebGPU execution provider (Dawn over Vulkan on Linux), one session
 * on one adapter, batches of 4096 records run one at a time on the device.
 */
import type { Backend, BackendTuning } from "./backend.js";
import { type ModelFile, OnnxModelSession } from "./onnx-model-session.js";
import { describeAdapter, probeWebGpuAdapter } from "./webgpu-adapter.js";

/** Options for {@link createWebGpuBackend}. */
export interface WebGpuBackendOptions extends ModelFile {
  /** Cores available to the container (cgroup quota included): the concurrency suggested to the platform. */
  readonly cpus: number;
  /**
   * Whether a software adapter (Mesa's `llvmpipe`) will do. It runs shaders on the CPU, slower than the
   * CPU backend (the default model: 2.4× the time), so only an explicit `SLUICE_BACKEND=webgpu` takes it.
   */
  readonly acceptSoftwareAdapter: boolean;
}

/**
 * The WebGPU backend's tuning on `cpus` cores: one invocation per core, as on the CPU, and payloads as
 * large as the platform's budget allows (32 MB at most). The device is rarely the bottleneck: on an H200,
 * ONNX Runtime ran a 2048-row batch of a 128 MiB model in 14 ms, while a codec thread took ~100 ms to
 * decode those rows' 20 MB of CSV. With two invocations suggested (as before) the pipeline served a sixth
 * of what the GPU could.
 */
export function webGpuTuning(cpus: number): BackendTuning {
  return { batchRows: 4096, suggestedConcurrentTransforms: Math.max(1, cpus), preferredPayloadMB: 32 };
}

/** No WebGPU adapter, or ONNX Runtime could not create a WebGPU session. */
export class WebGpuUnavailableError extends Error {}

/** Loads the model on the WebGPU execution provider; throws `WebGpuUnavailableError` when it cannot. */
export async function createWebGpuBackend(options: WebGpuBackendOptions): Promise<Backend> {
  const probe = await probeWebGpuAdapter();
  if (!probe.available) throw new WebGpuUnavailableError(probe.reason);
  if (probe.info?.software && !options.acceptSoftwareAdapter) {
    throw new WebGpuUnavailableError(
      `the only adapter is a software one (${describeAdapter(probe.info)}), slower than the CPU backend; SLUICE_BACKEND=webgpu uses it anyway`,
    );
  }
  let session: OnnxModelSession;
  try {
    session = await OnnxModelSession.create({
      modelPath: options.modelPath,
      dimensions: options.dimensions,
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
    description: `onnxruntime-node WebGPU provider on ${describeAdapter(probe.info)}; model: ${session.format}`,
    signature: session.signature,
    tuning: webGpuTuning(options.cpus),
    run: (batch, signal) => session.run(batch, signal),
    close: () => session.release(),
  };
}
