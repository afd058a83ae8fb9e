export { WebhooksModule } from './webhooks.module.js';
export { WebhookDispatcher } from './webhook-dispatcher.js';
export { WEBHOOK_DEFAULTS, WEBHOOK_OPTIONS, retryDelayMs, newWebhookSecret } from './webhook-options.js';
export type { WebhookOptions } from './webhook-options.js';
export { signWebhook, verifyWebhookSignature, webhookHmac, WEBHOOK_HEADERS, WEBHOOK_TOLERANCE_S } from './webhook-signature.js';
export type { WebhookVerification } from './webhook-signature.js';
export { webhookUrlProblem, guardedLookup, nonPublicKind } from './webhook-address.js';
