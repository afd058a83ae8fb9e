export { startPlatform, HttpListenError } from './platform.js';
export type { RunningPlatform, StartOptions } from './platform.js';
