/**
 * A worker thread of the bench's load generator (`load-generator.ts`): says it is ready, then for each
 * number of milliseconds it is sent, posts back to back with its clients and answers the bodies answered.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type LoadThreadData, postFor } from "./load-generator.js";

const load = workerData as LoadThreadData;
const port = parentPort;
if (port === null) throw new Error("load-thread.js runs as a worker thread");

port.on("message", async (milliseconds: number) => {
  port.postMessage(await postFor(load, milliseconds));
});
port.postMessage("ready");
