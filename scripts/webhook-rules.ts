// What `verifyWebhook` (src/client/verify-webhook.ts) reads of the spec, in a few hundred bytes: the
// event types (the names of the spec's webhooks), the fields every event carries, the signature
// and event-id headers, and how old an event may be. Written to generated/webhook-rules.ts.

type Schema = Record<string, unknown>;

const at = (spec: Schema, ref: string): Schema =>
  ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Schema)[key.replaceAll('~1', '/').replaceAll('~0', '~')], spec) as Schema;

export function webhookRulesModule(spec: Schema): string {
  const webhooks = spec.webhooks as Record<string, { post: { parameters: { $ref: string }[] } }>;
  const types = Object.keys(webhooks);
  const parameters = webhooks[types[0]!]!.post.parameters.map((p) => at(spec, p.$ref));
  const header = (pattern: RegExp) => (parameters.find((p) => pattern.test(String(p.name)))!.name as string).toLowerCase();
  const envelope = at(spec, '#/components/schemas/WebhookEnvelope');
  const delivery = spec['x-webhookDelivery'] as { toleranceSec: number };
  const rules = {
    types,
    required: envelope.required as string[],
    signatureHeader: header(/signature/i),
    eventIdHeader: header(/event-id/i),
    toleranceSec: delivery.toleranceSec,
  };
  return `/** What a receiver checks of an event, from the spec's webhooks. */
export const webhookRules = ${JSON.stringify(rules, null, 2)} as const;
`;
}
