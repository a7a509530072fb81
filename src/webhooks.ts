// `cloudrec/webhooks`: check the service's signed events in one call (and sign test events).
/**
 * The service's signed events: `verifyWebhook` checks one in a call; `signWebhook` signs test events.
 * @module cloudrec/webhooks
 */
export { signWebhook, verifyWebhook } from './client/verify-webhook.js';
export type { VerifyWebhookOptions, WebhookEvent, WebhookFailureReason, WebhookHeaders, WebhookVerification } from './client/verify-webhook.js';
