/**
 * Pings a server's `/ping` every 10 ms over one kept-alive connection, as the platform's health check
 * would, until its standard input ends; then prints the latencies (ms) as JSON. It runs as a process of
 * its own so that the load generator's busy event loop does not show up as the server's latency.
 */
import http from "node:http";

const url = `${process.argv[2]}/ping`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const latencies: number[] = [];
let stopping = false;
process.stdin.on("end", () => {
  stopping = true;
});
process.stdin.resume();

function ping(): void {
  if (stopping) {
    process.stdout.write(JSON.stringify(latencies));
    agent.destroy();
    return;
  }
  const started = performance.now();
  http
    .get(url, { agent }, (response) => {
      response.resume();
      response.on("end", () => {
        if (response.statusCode !== 200) throw new Error(`/ping answered ${response.statusCode}`);
        latencies.push(performance.now() - started);
        setTimeout(ping, 10);
      });
    })
    .on("error", (error) => {
      throw error;
    });
}
ping();
