/**
 * The worker thread of the flooding device (flood.ts startFlood): runs a Flooder until the main
 * thread says `stop`, reporting its counts (and how long it has flooded) every 500 ms and once
 * more at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Flooder, type FloodOptions } from './flood.js';

const flooder = new Flooder(workerData as FloodOptions);
const report = setInterval(() => parentPort?.postMessage({ stats: flooder.snapshot() }), 500);
parentPort?.on('message', (message) => {
  if (message === 'stop') flooder.stop();
});
void flooder.run().then(
  () => {
    clearInterval(report);
    parentPort?.postMessage({ stats: flooder.snapshot(), final: true });
  },
  (error: unknown) => {
    clearInterval(report);
    parentPort?.postMessage({ stats: { ...flooder.snapshot(), error: String(error) }, final: true });
  },
);
