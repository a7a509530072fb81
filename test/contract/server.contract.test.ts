// The contract suite against the reference server as a real process: every documented failure
// is provoked for real (projects, switches, storage and channel users set up through the sandbox
// API), except the two test/server/app.test.ts provokes in-process: internal_error (a closed
// database) and service_unavailable (a database that cannot grow).
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { StartRecordingRequest } from '../../src/index.js';
import { arrangeProject, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';
import { documentedFailures } from '../../src/conformance/exchange-check.js';
import { describeContract, type Arrangement, type ContractTarget } from './suite.js';

let server: ReferenceServer;
beforeAll(async () => {
  server = await startReferenceServer();
});
afterAll(async () => {
  await server?.stop();
  server?.remove();
});

let count = 0;
/** A new project (its own app_id, so no arrangement counts against another's rate) and a channel with one user. */
async function freshProject(options: { recording?: boolean; storage?: boolean; users?: boolean } = {}) {
  count += 1;
  const ids = { app_id: `app-${count}`, project_id: `proj-${count}`, sign_key: `key-${count}`, channel: `room ${count}` };
  await arrangeProject(server.baseUrl, { ...ids, uids: options.users === false ? [] : [1001] }, options.storage === false ? null : undefined);
  if (options.recording === false) {
    await fetch(`${server.baseUrl}/sandbox/projects/${ids.app_id}/${ids.project_id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recording_enabled: false }),
    });
  }
  return ids satisfies StartRecordingRequest;
}

const client = (body: StartRecordingRequest, more: Partial<Arrangement> = {}): Arrangement => ({ kind: 'client', body, ...more }) as Arrangement;
const raw = (contentType: string, body: string): Arrangement => ({ kind: 'raw', contentType, body });

const target: ContractTarget = {
  baseUrl: () => server.baseUrl,
  success: async () => client(await freshProject()),
  failures: {
    invalid_parameter: async () => client({ ...(await freshProject()), layout_mode: 7 } as unknown as StartRecordingRequest),
    audio_only_and_video_only: async () => client({ ...(await freshProject()), isAudioOnly: 1, isVideoOnly: 1 }),
    malformed_body: async () => raw('application/json', '{"app_id": "a",'),
    body_too_large: async () => raw('application/json', JSON.stringify({ ...(await freshProject()), channel: 'x'.repeat(70_000) })),
    unsupported_media_type: async () => raw('text/plain', 'app_id=a'),
    invalid_credentials: async () => client({ ...(await freshProject()), sign_key: 'not-the-key' }),
    recording_not_enabled: async () => client(await freshProject({ recording: false })),
    storage_not_configured: async () => client(await freshProject({ storage: false })),
    channel_empty: async () => client(await freshProject({ users: false })),
    channel_already_recording: async () => {
      const ids = await freshProject();
      const first = await fetch(`${server.baseUrl}/v1/cloudRecord`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...ids, layout_mode: 1 }),
      });
      expect(first.status).toBe(200);
      return client({ ...ids, layout_mode: 2 });
    },
    // The default limit is 10 requests a second per app_id: the 11th in a burst is refused. (Each
    // of the 10 is refused channel_empty; an identical repeat of an active task would spend nothing.)
    rate_limited: async () => {
      const ids = await freshProject();
      return client(ids, { before: Array.from({ length: 10 }, (_, i) => ({ ...ids, channel: `empty ${i}` })) });
    },
  },
};

describeContract('the reference server', target);

// Provoked elsewhere: internal_error (a failed database) and service_unavailable (a full disk) in
// process by test/server/app.test.ts, service_unavailable while shutting down by test/faults/; and
// what a fetch cannot send (a malformed request, headers too large, a request never finished)
// over raw sockets by test/server/framework-answers.test.ts.
const provokedElsewhere = ['internal_error', 'service_unavailable', 'malformed_request', 'headers_too_large', 'request_timeout'];
test('the reference server contract covers every documented failure, with those provoked elsewhere', () => {
  const documented = documentedFailures('/v1/cloudRecord', 'post').map((f) => f.name);
  expect([...Object.keys(target.failures), ...provokedElsewhere].sort()).toEqual([...documented].sort());
});
