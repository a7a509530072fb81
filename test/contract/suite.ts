// One contract suite, run against every target that serves the API (the Prism mock, the
// reference server): the client's success and every documented failure the target can be made
// to answer, each request and answer validated against the spec.
import { describe, expect, test } from 'vitest';
import { createClient, type StartRecordingRequest } from '../../src/index.js';
import { documentedFailures, requestProblems, responseProblems } from '../../src/conformance/exchange-check.js';

/** How to make a target answer one way: a client call (with headers) or a raw HTTP request. */
export type Arrangement =
  | { kind: 'client'; body: StartRecordingRequest; headers?: Record<string, string>; before?: StartRecordingRequest[] }
  | { kind: 'raw'; contentType: string; body: string; headers?: Record<string, string> };

export interface ContractTarget {
  baseUrl(): string;
  /** The arrangement for the success. */
  success(): Promise<Arrangement>;
  /** The arrangement for each failure the target can be made to answer, by example name. */
  failures: Record<string, () => Promise<Arrangement>>;
}

/** A fetch that sends for real and records each exchange. */
function recordingFetch() {
  const exchanges: { request: Request; response: Response }[] = [];
  const fetch = async (request: Request) => {
    const copy = request.clone();
    const response = await globalThis.fetch(request);
    exchanges.push({ request: copy, response: response.clone() });
    return response;
  };
  return { exchanges, fetch };
}

/** Sends the arrangement; returns the last answer and, for client calls, the client's result. */
async function perform(baseUrl: string, arrangement: Arrangement) {
  if (arrangement.kind === 'raw') {
    const response = await fetch(`${baseUrl}/v1/cloudRecord`, {
      method: 'POST',
      headers: { 'content-type': arrangement.contentType, ...arrangement.headers },
      body: arrangement.body,
    });
    return { response, result: undefined, requests: [] as Request[] };
  }
  const { exchanges, fetch: sendAndRecord } = recordingFetch();
  // One request per call: each answer is the point, not what a retry would make of it.
  const client = createClient({ baseUrl, fetch: sendAndRecord, headers: arrangement.headers, maxRetries: 0 });
  let result;
  for (const body of [...(arrangement.before ?? []), arrangement.body]) result = await client.startRecording(body);
  return { response: exchanges.at(-1)!.response, result, requests: exchanges.map((e) => e.request) };
}

export function describeContract(name: string, target: ContractTarget) {
  describe(`${name}: the API contract`, () => {
    test('answers a valid request with a task, as the spec says', async () => {
      const { response, result, requests } = await perform(target.baseUrl(), await target.success());
      expect(result).toMatchObject({ ok: true, status: 200, data: { code: 'success' } });
      for (const request of requests) expect(await requestProblems(request)).toEqual([]);
      expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
    });

    const failures = documentedFailures('/v1/cloudRecord', 'post').filter((f) => target.failures[f.name]);
    test.each(failures)('answers the $name failure with status $status in the spec shape', async ({ status, name }) => {
      const { response, result, requests } = await perform(target.baseUrl(), await target.failures[name]!());
      expect(response.status).toBe(status);
      expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
      expect(((await response.clone().json()) as { code: string }).code).toBe(name);
      if (result) expect(result).toMatchObject({ ok: false, kind: 'api', status, error: { code: name } });
      // A 400 or 415 is about the request breaking the spec; every other failure had a conforming one.
      if (status !== 400 && status !== 415) {
        for (const request of requests) expect(await requestProblems(request)).toEqual([]);
      }
    });
  });
}
