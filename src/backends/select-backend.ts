/**
 * Creates the backend the configuration asks for.
 */
import type { BackendChoice } from "../config.js";
import type { ContainerResources } from "../container-resources.js";
import type { Logger } from "../log.js";
import type { Backend } from "./backend.js";
import { createCpuBackend } from "./onnx-cpu.js";

/** What backend selection needs. */
export interface BackendRequest {
  readonly choice: BackendChoice;
  readonly modelPath: string;
  readonly resources: ContainerResources;
  /** Parallel runs wanted (the concurrency the platform was told); the backend may use fewer. */
  readonly parallelRuns?: number;
  readonly log: Logger;
}

/** Loads the model on the chosen backend. */
export async function selectBackend(request: BackendRequest): Promise<Backend> {
  const parallelRuns =
    request.parallelRuns === undefined ? undefined : Math.min(request.parallelRuns, request.resources.cpus);
  return createCpuBackend({ modelPath: request.modelPath, cpus: request.resources.cpus, parallelRuns });
}
