/**
 * Descriptors of the listening socket for codec threads that accept connections (`SLUICE_ACCEPT=every-thread`).
 *
 * A worker thread can listen on the main thread's socket by its number (`server.listen({ fd })`), but each
 * thread's handle then closes that one number when it stops: the first close ends the socket for every
 * thread, and the later ones close whatever file has taken the number since (a client's connection, say).
 * So each thread needs a descriptor of its own for the one socket. Node has no `dup()`, but a handle sent
 * to a child process arrives there as a new descriptor (`SCM_RIGHTS`), and one sent back arrives here as
 * yet another: a helper process echoes the socket back once per descriptor wanted, then exits. Each
 * thread then listens on its own descriptor and closes only that one.
 *
 * A handle received here whose descriptor a thread listens on is never closed here: the thread closes
 * that descriptor, and a second close of the same number could close whatever file has taken it since.
 * Such handles are unreferenced (they keep nothing alive) and go when the process does. A copy no thread
 * took (the one kept to make later copies from) is closed here, with {@link SocketHandle.close}, so that
 * once every thread has stopped the socket closes and new connections are refused.
 */
import { spawn } from "node:child_process";
import type { Server } from "node:net";

/** The child's whole program: send every handle back as it came. */
const ECHO = "process.on('message', (message, handle) => process.send(message, handle));";

/** A socket handle as Node's internals hold it: its descriptor, and whether it keeps the loop alive. */
export interface SocketHandle {
  readonly fd: number;
  unref(): void;
  close(): void;
}

/** Handles received for the threads; kept reachable, so that nothing ever closes them here. */
const lent: SocketHandle[] = [];

/**
 * `count` new handles of the listening socket of `source` (a listening server, or a handle this function
 * made), each on a descriptor of its own: one for a thread to listen on and close, or one to keep as the
 * source of later copies.
 */
export async function listeningSocketCopies(source: Server | SocketHandle, count: number): Promise<SocketHandle[]> {
  const handle = "fd" in source ? source : (source as unknown as { _handle?: SocketHandle | null })._handle;
  if (!handle || !(handle.fd >= 0)) throw new Error("the server is not listening on a socket of its own");
  const helper = spawn(process.execPath, ["-e", ECHO], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const exited = new Promise<never>((_, reject) => {
    helper.once("error", reject);
    helper.once("exit", (code) => reject(new Error(`the process copying the socket exited (code ${code})`)));
  });
  exited.catch(() => {});
  try {
    const copies: SocketHandle[] = [];
    for (let i = 0; i < count; i++) {
      const received = new Promise<SocketHandle>((resolve) => {
        helper.once("message", (_message, copy) => resolve(copy as unknown as SocketHandle));
      });
      helper.send({ copy: i }, handle as unknown as Server);
      const copy = await Promise.race([received, exited]);
      copy.unref();
      lent.push(copy);
      copies.push(copy);
    }
    return copies;
  } finally {
    helper.kill();
  }
}
