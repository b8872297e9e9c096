/**
 * The inference threads that hold the model's sessions (as many as `model-sessions.ts` says): loading
 * them, reaching them from codec threads, and loading one again when its thread ends.
 */
import type { MessagePort } from "node:worker_threads";
import type { Logger } from "../log.js";
import { InferenceHost } from "./inference-host.js";
import type { LoadedModel, LoadRequest } from "./messages.js";
import { type SessionBudget, sessionsOf } from "./model-sessions.js";

/** What the owner of the sessions hears of their threads' ends. */
export interface SessionEvents {
  /** The model must be loaded anew: its only session's thread ended, or one could not be loaded again. */
  lost(reason: string): void;
  /** Session `index` was loaded again on a new thread: connect what it served to it again. */
  replaced(index: number): void;
}

/** What {@link InferenceThreads.load} needs beyond the request for the first session. */
export interface SessionSettings {
  /** `SLUICE_MODEL_SESSIONS`, when set. */
  readonly configured: number | undefined;
  readonly codecThreads: number;
  readonly log: Logger;
  readonly events: SessionEvents;
}

/**
 * How the first session is loaded. Unless `SLUICE_MODEL_SESSIONS` set their number (`configured`), its
 * trial weighs the intra-op threads against the sessions a model on one thread would get. Where it did,
 * the sessions share the cores: each may use its share of the intra-op threads (at least one), which the
 * trial, unless the operator set them too, weighs against one.
 */
function firstSessionRequest(request: LoadRequest, configured: number | undefined, budget: SessionBudget): LoadRequest {
  if (configured === undefined) return { ...request, sessionBudget: budget };
  if (!request.chooseIntraOpThreads) return request;
  return { ...request, intraOpThreads: Math.max(1, Math.floor(request.intraOpThreads / configured)) };
}

/**
 * The inference threads, each holding a session of the model. A codec thread's batches go to the session
 * its slot picks (slot modulo the sessions), so a replacement codec thread, or a replacement session, takes
 * over exactly the connections of the one it replaces. When one of several sessions' threads ends, what
 * ran on it fails and that session alone is loaded again; the others keep serving.
 */
export class InferenceThreads {
  readonly #hosts: InferenceHost[];
  #closed = false;

  private constructor(
    hosts: readonly InferenceHost[],
    /** How a session is loaded in place of one whose thread ended. */
    private readonly request: LoadRequest,
    private readonly settings: SessionSettings,
  ) {
    this.#hosts = [...hosts];
  }

  /**
   * Loads the model on its first inference thread (which times a batch to choose its intra-op threads),
   * then as many more sessions as `model-sessions.ts` asks for, each on a thread of its own with the
   * first one's intra-op threads; rejects with the reason a session could not be loaded.
   */
  static async load(request: LoadRequest, settings: SessionSettings) {
    // Set once every session is loaded. A thread that ends before then fails this load, and the model is
    // loaded anew (as a thread that ends later does, where it is the only one).
    let threads: InferenceThreads | undefined;
    let endedEarly: string | undefined;
    const onExit = (host: InferenceHost | undefined, reason: string) => {
      if (threads && host) {
        threads.#ended(host, reason);
        return;
      }
      endedEarly ??= reason;
      settings.events.lost(reason);
    };
    const { configured } = settings;
    const budget: SessionBudget = { configured, codecThreads: settings.codecThreads };
    const first = await loadSession(firstSessionRequest(request, configured, budget), settings.log, onExit);
    const { model } = first;
    const sessions = sessionsOf(budget, request.modelPath, {
      signature: model.signature,
      intraOpThreads: model.intraOpThreads ?? 1,
      recordMicroseconds: model.recordMicroseconds,
    });
    // On the backend the first session ended up on (`auto` tried WebGPU once), with its intra-op threads.
    const alike: LoadRequest = {
      ...request,
      backend: model.kind === "webgpu" ? "webgpu" : "cpu",
      intraOpThreads: model.intraOpThreads ?? request.intraOpThreads,
      chooseIntraOpThreads: false,
    };
    const more = await Promise.allSettled(
      Array.from({ length: sessions.sessions - 1 }, () => loadSession(alike, settings.log, onExit)),
    );
    const loaded = new InferenceThreads(
      [first.host, ...more.flatMap((session) => (session.status === "fulfilled" ? [session.value.host] : []))],
      alike,
      settings,
    );
    const failed = more.find((session) => session.status === "rejected");
    if (failed || endedEarly !== undefined) {
      await loaded.close();
      throw failed ? failed.reason : new Error(`an inference thread ended while the sessions loaded: ${endedEarly}`);
    }
    threads = loaded;
    return { threads, model, sessions };
  }

  /** The session at `index`, from 0 (the one that timed its batch). */
  host(index: number): InferenceHost {
    return this.#hosts[index];
  }

  /** Whether `slot` (a codec thread's; the main thread's is 0) is served by the session at `index`. */
  serves(index: number, slot: number): boolean {
    return slot % this.#hosts.length === index;
  }

  /** A new port to the session that serves `slot`. */
  connect(slot: number): MessagePort {
    return this.#hosts[slot % this.#hosts.length].connect();
  }

  /** The threads' kernel ids (those known). */
  threadIds(): number[] {
    return this.#hosts.flatMap((host) => (host.threadId === undefined ? [] : [host.threadId]));
  }

  /** Releases every session and ends the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#hosts.map((host) => host.close()));
  }

  /** `host`'s thread ended: the model is lost with its only session, else that session is loaded again. */
  #ended(host: InferenceHost, reason: string): void {
    const index = this.#hosts.indexOf(host);
    if (this.#closed || index < 0) return;
    const { log, events } = this.settings;
    if (this.#hosts.length === 1) {
      events.lost(reason);
      return;
    }
    log.error("an inference thread stopped; loading its session again", { reason, session: index });
    // A new thread that ends before its model is loaded fails this load (below).
    loadSession(this.request, log, (ended, why) => ended && this.#ended(ended, why)).then(
      ({ host: replacement }) => {
        if (this.#closed) {
          replacement.close().catch(() => {});
          return;
        }
        this.#hosts[index] = replacement;
        events.replaced(index);
        log.info("session loaded again", { session: index });
      },
      (error: unknown) => {
        if (!this.#closed) events.lost(`its session could not be loaded again: ${String(error)}`);
      },
    );
  }
}

/**
 * One session on a thread of its own; `onExit` hears of the thread's end, with the host once the model is
 * loaded on it (before that, without, and the load fails too).
 */
async function loadSession(
  request: LoadRequest,
  log: Logger,
  onExit: (host: InferenceHost | undefined, reason: string) => void,
): Promise<{ host: InferenceHost; model: LoadedModel }> {
  let loaded: InferenceHost | undefined;
  const started = await InferenceHost.load(request, log, (reason) => onExit(loaded, reason));
  loaded = started.host;
  return started;
}
