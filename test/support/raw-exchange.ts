/** Raw HTTP exchanges over a socket of their own, for requests no HTTP client would send. */
import net from "node:net";

/**
 * Sends raw bytes on a new connection (without half-closing it, as real clients do not) and returns
 * everything the server wrote until it closed the connection.
 */
export function rawExchange(port: number, request: Uint8Array | string, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${ms} ms; got ${JSON.stringify(received.slice(0, 300))}`));
    }, ms);
    socket.on("data", (data) => {
      received += data.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on("error", () => {});
    socket.write(request);
  });
}

/** The JSON body of the last response in a raw exchange. */
export const lastJson = (raw: string) => JSON.parse(raw.slice(raw.lastIndexOf("\r\n\r\n") + 4)) as { code: string };

/** `text` as one chunk of a chunked body. */
export const chunkOf = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
