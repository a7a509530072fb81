// Requests generated from the request schema, sent to a real Prism process: valid bodies
// succeed, bodies that break one rule get a 4xx in the spec's error shape.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startPrism } from '../support/prism.js';
import { brokenBody, validateRequest, validBody } from '../../src/conformance/request-arbitraries.js';
import { responseProblems } from '../../src/conformance/exchange-check.js';

let prism: Awaited<ReturnType<typeof startPrism>>;
beforeAll(async () => {
  prism = await startPrism();
});
afterAll(async () => {
  await prism?.process.stop();
});

const post = (body: unknown) =>
  fetch(`${prism.baseUrl}/v1/cloudRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the Prism mock, given generated requests', () => {
  test('answers every valid body with a spec-valid 200', async () => {
    await fc.assert(
      fc.asyncProperty(validBody, async (body) => {
        const response = await post(body);
        expect(response.status).toBe(200);
        expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  test('answers every body that breaks one rule with a spec-shaped 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(brokenBody, async ({ body }) => {
        expect(validateRequest(body)).toBe(false);
        const response = await post(body);
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
