export type CaseReadVia = 'api' | 'sse' | 'webhook';
