/**
 * A worker thread of the bench's load generator (`load-generator.ts`): says it is ready, then for each
 * number of milliseconds it is sent, posts back to back with its clients and answers the bodies answered.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type LoadThreadData, postBackToBack } from "./load-generator.js";

const { url, body, clients, contentType, accept } = workerData as LoadThreadData;
const port = parentPort;
if (port === null) throw new Error("load-thread.js runs as a worker thread");

port.on("message", async (milliseconds: number) => {
  let bodies = 0;
  await postBackToBack(
    url,
    body,
    clients,
    performance.now() + milliseconds,
    () => {
      bodies++;
    },
    contentType,
    accept,
  );
  port.postMessage(bodies);
});
port.postMessage("ready");
