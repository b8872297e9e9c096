/**
 * Finds the WebGPU adapter Dawn offers on this machine (a GPU, or Mesa's software `llvmpipe`), to name it
 * in the start-up log and to refuse the WebGPU backend early when there is none. It asks Dawn through the
 * optional `webgpu` package (Dawn's Node.js bindings); ONNX Runtime's WebGPU provider bundles its own
 * Dawn and requests the same high-performance adapter.
 */
import { temporaryDirectory } from "../temporary-directory.js";

/** What Dawn reports about an adapter. */
export interface WebGpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software rasteriser on the CPU (Mesa's `llvmpipe`, SwiftShader): WebGPU's fallback adapter. */
  readonly software: boolean;
}

/** The adapter found, or why there is none; `info` is undefined when the `webgpu` package is absent. */
export type AdapterProbe =
  | { readonly available: true; readonly info?: WebGpuAdapterInfo }
  | { readonly available: false; readonly reason: string };

/** `GPUAdapterInfo` as Dawn's bindings give it (`isFallbackAdapter` is recent in the WebGPU spec). */
interface DawnAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}

interface DawnModule {
  create(options: string[]): {
    requestAdapter(options?: { powerPreference?: string }): Promise<{ info: DawnAdapterInfo } | null>;
  };
}

/**
 * Vulkan's loader and Mesa expect `XDG_RUNTIME_DIR`; containers often lack it. Point it at a private
 * directory when unset (before Dawn starts). Call it on the main thread before starting the thread that
 * runs Dawn: only there does `process.env` change the process's own environment, which native code
 * reads, and only there is the directory removed when the process exits.
 */
export function ensureRuntimeDir(): void {
  if (!process.env.XDG_RUNTIME_DIR) {
    process.env.XDG_RUNTIME_DIR = temporaryDirectory("sluice-xdg");
  }
}

/** Asks Dawn for its high-performance adapter. */
export async function probeWebGpuAdapter(): Promise<AdapterProbe> {
  ensureRuntimeDir();
  let dawn: DawnModule;
  try {
    dawn = (await import("webgpu")) as unknown as DawnModule;
  } catch {
    // Without the optional package, ONNX Runtime itself decides when the session is created.
    return { available: true };
  }
  try {
    const adapter = await dawn.create([]).requestAdapter({ powerPreference: "high-performance" });
    if (!adapter)
      return {
        available: false,
        reason: "Dawn found no WebGPU adapter (no GPU, and no Vulkan driver such as Mesa's llvmpipe)",
      };
    const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info;
    const software = isFallbackAdapter === true || architecture === "software";
    return { available: true, info: { vendor, architecture, device, description, software } };
  } catch (cause) {
    return { available: false, reason: `Dawn could not start: ${(cause as Error).message}` };
  }
}

/**
 * `vendor/device architecture (description)` for logs, leaving out what the driver does not report.
 * NVIDIA's driver names the card in `device` and its own version in `description`
 * (`nvidia/nvidia-h200 (NVIDIA: 580.159.04 580.159.4.0)`); Mesa puts the card's name in `description`.
 */
export function describeAdapter(info: WebGpuAdapterInfo | undefined): string {
  if (!info) return "adapter details unavailable (optional package webgpu not installed)";
  const name = [info.device, info.architecture].filter(Boolean).join(" ") || "unknown device";
  const detail = info.description && info.description !== info.device ? ` (${info.description})` : "";
  return `${info.vendor || "unknown vendor"}/${name}${detail}`;
}
