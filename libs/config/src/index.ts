export { loadConfig, withOverrides, ConfigError } from './config.js';
export type { AmrConfig, DeepPartial } from './config.js';
