export { loadConfig, withOverrides, ConfigError } from './config.js';
export type { AmrConfig, DeepPartial, RateLimit } from './config.js';
