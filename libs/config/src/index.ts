export { loadConfig, ConfigError } from './config.js';
export type { AmrConfig, RateLimit } from './config.js';
