/**
 * Creates the backend the configuration asks for: `cpu`; `webgpu` (no adapter is a start-up error); or
 * `auto`, which tries WebGPU on a hardware adapter and falls back to the CPU with one log line saying why.
 */
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Backend } from "./backend.js";
import { type CpuBackendOptions, createCpuBackend } from "./onnx-cpu.js";
import type { ModelFile } from "./onnx-model-session.js";
import { createWebGpuBackend, WebGpuUnavailableError } from "./onnx-webgpu.js";

/** Which backend runs the model. */
export type BackendChoice = "cpu" | "webgpu" | "auto";

/** What backend selection needs. */
export interface BackendRequest extends ModelFile {
  readonly choice: BackendChoice;
  /** Threads one CPU run may use. */
  readonly intraOpThreads: number;
  /** Whether the CPU backend may use fewer where a timed batch shows more no faster. */
  readonly chooseIntraOpThreads: boolean;
  /** Cores available to the container. */
  readonly cpus: number;
  /** See {@link CpuBackendOptions.sessionsOnOneThread}. */
  readonly sessionsOnOneThread?: CpuBackendOptions["sessionsOnOneThread"];
  readonly log: Logger;
}

/** Loads the model on the chosen backend. */
export async function selectBackend(request: BackendRequest): Promise<Backend> {
  if (request.choice !== "cpu") {
    try {
      return await createWebGpuBackend({
        modelPath: request.modelPath,
        dimensions: request.dimensions,
        cpus: request.cpus,
        acceptSoftwareAdapter: request.choice === "webgpu",
      });
    } catch (cause) {
      if (!(cause instanceof WebGpuUnavailableError)) throw cause;
      if (request.choice === "webgpu") {
        throw new ConfigError(`SLUICE_BACKEND=webgpu, but WebGPU is unavailable: ${cause.message}`);
      }
      request.log.warn("WebGPU unavailable, using the CPU backend", { reason: cause.message });
    }
  }
  const { modelPath, dimensions, intraOpThreads, chooseIntraOpThreads, cpus, sessionsOnOneThread } = request;
  return createCpuBackend({ modelPath, dimensions, intraOpThreads, chooseIntraOpThreads, cpus, sessionsOnOneThread });
}
