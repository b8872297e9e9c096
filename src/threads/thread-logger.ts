/**
 * The logger of a worker thread: each line is posted to the main thread, which writes it with its own
 * logger, so every thread's lines reach one stream in one format.
 */
import type { MessagePort } from "node:worker_threads";
import { type LogFields, Logger, type LogLevel } from "../log.js";
import type { LogMessage } from "./messages.js";

/** Posts log lines to `port` (the worker's `parentPort`). */
export class ThreadLogger extends Logger {
  constructor(private readonly port: MessagePort) {
    super();
  }

  override write(level: LogLevel, message: string, fields: LogFields = {}): void {
    const line: LogMessage = { type: "log", level, message, fields };
    this.port.postMessage(line);
  }
}
