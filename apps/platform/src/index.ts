export { startPlatform } from './platform.js';
export { HttpListenError } from '@amr/api';
export type { RunningPlatform, StartOptions } from './platform.js';
