// `cloudrec/webhooks`: check the service's signed events in one call (and sign test events).
export { signWebhook, verifyWebhook } from './client/verify-webhook.js';
export type { VerifyWebhookOptions, WebhookEvent, WebhookFailureReason, WebhookHeaders, WebhookVerification } from './client/verify-webhook.js';
