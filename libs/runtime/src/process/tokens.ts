/** Injection tokens for the values every app of the platform is given at start-up. */
export const AMR_CONFIG = Symbol('AMR_CONFIG');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
/** What this process runs (`broker`, `routing`, `api`), as named in /health. */
export const NODE_ROLES = Symbol('NODE_ROLES');
