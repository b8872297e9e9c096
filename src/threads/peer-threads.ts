/**
 * With `SLUICE_ACCEPT=every-thread`: a codec thread's links to every accepting codec thread, itself
 * included, so that a large body it accepted runs as parts on whichever threads are idle, as the main
 * thread cuts one by default (`split-invocation.ts`): the same parts, rings and messages, over a port
 * between two codec threads instead of between the main thread and one. Each thread counts what it runs
 * in shared memory, so that every thread sees which ones are idle.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { WorkerCrashedError } from "../errors.js";
import { BodyRingPool } from "./body-ring-pool.js";
import type { FromRunner, InvocationRunner, ToRunner } from "./invocation-runner.js";
import type { InvocationJob } from "./messages.js";
import { type FedBody, RemoteInvocation } from "./remote-invocation.js";
import { RunningCounts } from "./running-counts.js";
import type { PartThreads } from "./split-invocation.js";

/**
 * A linked thread. What runs on it is counted by whoever starts it (`running-counts.ts`): its own front
 * for the invocations it runs whole, the starting thread for a part (from its start until the running
 * thread says it is over).
 */
interface Peer {
  readonly slot: number;
  /** Where this thread's parts on the peer are started, and their messages come back. */
  readonly requests: MessagePort;
  /** Runs the parts the peer starts on this thread. */
  readonly runner: InvocationRunner;
  /** The parts this thread started on the peer, by id. */
  readonly started: Map<number, RemoteInvocation>;
}

/** This thread's links to the accepting codec threads. */
export class PeerThreads implements PartThreads {
  readonly #peers = new Map<number, Peer>();
  readonly #rings: BodyRingPool;
  /** Invocations (whole or parts) running on each thread, by slot. */
  readonly #running: RunningCounts;
  #nextId = 0;

  /**
   * @param ringsMade Each thread's count of the body rings it has made, by slot (this one counts its own).
   * @param createRunner Makes the runner of the parts a peer starts here, answering through `reply`.
   * @param onStuck Called when a part started on the thread at `slot` was not stopped when asked.
   */
  constructor(
    private readonly ownSlot: number,
    running: SharedArrayBuffer,
    ringsMade: SharedArrayBuffer,
    private readonly createRunner: (reply: MessagePort) => InvocationRunner,
    private readonly onStuck: (slot: number) => void,
  ) {
    this.#running = new RunningCounts(running);
    const madeBySlot = new Int32Array(ringsMade);
    this.#rings = new BodyRingPool(() => Atomics.add(madeBySlot, ownSlot, 1));
    // This thread runs parts too, over a channel with both ends here.
    const { port1, port2 } = new MessageChannel();
    this.#link(ownSlot, port1, port2);
  }

  /** Counts an invocation this thread runs whole starting (1) or ending (-1). */
  countRunning(change: 1 | -1): void {
    this.#running.add(this.ownSlot, this.ownSlot, change);
  }

  /** Links the thread at `slot` (in place of a dead one there), over one port for both directions. */
  add(slot: number, port: MessagePort): void {
    this.#link(slot, port, port);
  }

  #link(slot: number, requests: MessagePort, served: MessagePort): void {
    const replaced = this.#peers.get(slot);
    if (replaced) this.#gone(replaced);
    const peer: Peer = { slot, requests, runner: this.createRunner(served), started: new Map() };
    const dispatch = (message: ToRunner | FromRunner) => {
      switch (message.type) {
        case "start":
        case "wake":
        case "abort":
        case "ack":
          peer.runner.receive(message);
          return;
        default:
          peer.started.get(message.id)?.receive(message);
          // Kept until the thread says it is over, even when failed here first: that gives its count back.
          if (message.type === "done" || message.type === "failed") peer.started.delete(message.id);
      }
    };
    for (const port of new Set([requests, served])) port.on("message", dispatch);
    requests.once("close", () => this.#gone(peer));
    this.#peers.set(slot, peer);
  }

  /** A peer's thread ended: what it ran for this thread fails, what it started here stops. */
  #gone(peer: Peer): void {
    if (this.#peers.get(peer.slot) !== peer) return;
    this.#peers.delete(peer.slot);
    const error = new WorkerCrashedError("it ended while it ran a part of this body");
    for (const invocation of peer.started.values()) {
      invocation.threadGone(error);
      // Its ring is never given back (it is left to the collector), and with the ring its count: so here.
      this.#running.add(this.ownSlot, peer.slot, -1);
    }
    peer.started.clear();
    peer.runner.stopAll(error);
    peer.requests.close();
  }

  /** How many linked threads run nothing at all. */
  idleThreads(): number {
    let idle = 0;
    for (const slot of this.#peers.keys()) if (this.#running.on(slot) === 0) idle++;
    return idle;
  }

  spareThreads(ownParts: number): number {
    let running = 0;
    for (const slot of this.#peers.keys()) running += this.#running.on(slot);
    return this.#peers.size - (running - ownParts);
  }

  /**
   * Starts a part on the least busy linked thread. This thread also reads the body, cuts it and writes
   * the answer, so it takes a part only when every other runs at least one more than it does.
   */
  invoke(job: InvocationJob, fed: FedBody, signal: AbortSignal | undefined, bodyIdleTimeoutMs: number) {
    let chosen = this.#peers.get(this.ownSlot) as Peer;
    let fewest = this.#running.on(this.ownSlot) + 1;
    for (const peer of this.#peers.values()) {
      const running = this.#running.on(peer.slot);
      if (running < fewest && peer.slot !== this.ownSlot) {
        chosen = peer;
        fewest = running;
      }
    }
    // Counted here as it starts, not by the thread that runs it once the message arrives: the next part,
    // started before then, must see this one.
    this.#running.add(this.ownSlot, chosen.slot, 1);
    const rings = this.#rings;
    const invocation = new RemoteInvocation(
      chosen.requests,
      this.#nextId++,
      job,
      fed,
      signal,
      bodyIdleTimeoutMs,
      rings.acquire(),
      (ring) => {
        rings.release(ring);
        this.#running.add(this.ownSlot, chosen.slot, -1);
      },
      () => this.onStuck(chosen.slot),
    );
    chosen.started.set(invocation.id, invocation);
    return invocation;
  }
}
