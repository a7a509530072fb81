// A small server of the API written for the conformance tests: correct, or with one deliberate
// flaw. It validates with the reference server's request parser, keeps one ready project (and
// one for each other precondition) in memory, and answers in the spec's shapes unless its flaw
// says otherwise.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRequestMaxBytes as maxBodyBytes } from '../../src/spec/api-document.js';
import { ApiFailure } from '../../src/server/errors.js';
import { parseStartRequest } from '../../src/server/start-request.js';

export type Flaw =
  | 'none' | 'accepts-everything' | 'wrong-error-shape' | 'omits-task-id' | 'new-task-on-repeat' | 'malformed-json-500' | 'ignores-exclusion'
  | 'control-characters-in-ids' | 'ignores-request-id' | 'accepts-any-frame-rate' | 'no-request-id-header' | 'accepts-any-credentials'
  | 'no-rate-limit' | 'counts-identical-repeats' | 'rate-limit-without-retry-after' | 'not-found-as-text';

/** The fake's start requests a second per app_id: high, so the generated checks rarely wait, yet a burst crosses it. */
export const fakeRateLimit = 100;

export const fakeProject = { app_id: 'fake-app', project_id: 'fake-project', sign_key: 'fake-key', channel: 'fake-room' };
export const fakeFixtures = {
  recordingOff: { app_id: 'fake-app', project_id: 'off-project', sign_key: 'off-key' },
  noStorage: { app_id: 'fake-app', project_id: 'bare-project', sign_key: 'bare-key' },
  emptyChannel: 'fake-empty',
};
const projects = [
  { ...fakeProject, recording: true, storage: true },
  { ...fakeFixtures.recordingOff, recording: false, storage: true },
  { ...fakeFixtures.noStorage, recording: true, storage: false },
];

/**
 * `rateLimitFirst`: the first request of all is answered 429 with Retry-After 1, as a busy server
 * would; `unavailableFirst`: 503 service_unavailable with Retry-After 1, as one out of disk would.
 */
export async function startFakeServer(flaw: Flaw, { rateLimitFirst = false, unavailableFirst = false } = {}): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  let limited = !rateLimitFirst;
  let unavailable = unavailableFirst;
  const active = new Map<string, { settings: string; task_id: number }>();
  let lastTaskId = 0;
  // The times of each app's counted requests in the last second.
  const counted = new Map<string, number[]>();
  const rateLimited = (app: string) => {
    const now = Date.now();
    const times = (counted.get(app) ?? []).filter((t) => t > now - 1000);
    counted.set(app, times);
    if (times.length >= fakeRateLimit) return true;
    times.push(now);
    return false;
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, failure: ApiFailure) => {
    res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
    res.end(JSON.stringify(flaw === 'wrong-error-shape' ? { error: failure.message } : failure.body));
  };

  const handle = (req: IncomingMessage, raw: string, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/v1/cloudRecord') {
      if (flaw !== 'not-found-as-text') return answer(res, 404, { code: 'not_found', message: 'No such operation.' });
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('Not Found');
    }
    if (!limited) {
      limited = true;
      throw new ApiFailure('rate_limited', 'Too many requests; retry after 1 second.', { 'Retry-After': '1' });
    }
    if (unavailable) {
      unavailable = false;
      throw new ApiFailure('service_unavailable', 'The disk is full; retry after 1 second.', { 'Retry-After': '1' });
    }
    if (flaw === 'accepts-everything') return answer(res, 200, { code: 'success', task_id: ++lastTaskId });
    if (Buffer.byteLength(raw) > maxBodyBytes) throw new ApiFailure('body_too_large', `The body is over ${maxBodyBytes} bytes.`);
    let request;
    try {
      request = parseStartRequest(req.headers['content-type'], raw);
    } catch (error) {
      const code = (error as ApiFailure).code;
      if (flaw === 'malformed-json-500' && code === 'malformed_body') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end('Internal Server Error');
      }
      if (flaw === 'accepts-any-frame-rate' && code === 'invalid_parameter' && acceptedAtAnyFrameRate(req.headers['content-type'], raw)) {
        request = JSON.parse(raw) as ReturnType<typeof parseStartRequest>;
      } else if (flaw === 'control-characters-in-ids' && code === 'invalid_parameter' && acceptedWithoutControlCharacters(req.headers['content-type'], raw)) {
        request = JSON.parse(raw) as ReturnType<typeof parseStartRequest>;
      } else {
        if (!(flaw === 'ignores-exclusion' && code === 'audio_only_and_video_only')) throw error;
        request = JSON.parse(raw) as ReturnType<typeof parseStartRequest>;
      }
    }
    const project =
      projects.find((p) => p.app_id === request.app_id && p.project_id === request.project_id && p.sign_key === request.sign_key) ??
      (flaw === 'accepts-any-credentials' ? projects[0] : undefined);
    if (!project) throw new ApiFailure('invalid_credentials', 'app_id, project_id and sign_key do not identify a project.');
    const { sign_key: _key, ...rest } = request;
    const settings = JSON.stringify(rest);
    const task = active.get(request.channel);
    const overLimit = () => flaw !== 'no-rate-limit' && rateLimited(request.app_id);
    if (task?.settings === settings && !(flaw === 'counts-identical-repeats' && overLimit())) {
      if (flaw === 'omits-task-id') return answer(res, 200, { code: 'success' });
      return answer(res, 200, { code: 'success', task_id: flaw === 'new-task-on-repeat' ? ++lastTaskId : task.task_id });
    }
    if (overLimit()) {
      throw new ApiFailure('rate_limited', 'More than the allowed requests in one second.', flaw === 'rate-limit-without-retry-after' ? {} : { 'Retry-After': '1' });
    }
    if (!project.recording) throw new ApiFailure('recording_not_enabled', 'Recording is off.');
    if (!project.storage) throw new ApiFailure('storage_not_configured', 'No storage.');
    if (request.channel !== fakeProject.channel) throw new ApiFailure('channel_empty', 'Nobody is in the channel.');
    if (task) throw new ApiFailure('channel_already_recording', 'Already recording with other settings.');
    const created = { settings, task_id: ++lastTaskId };
    active.set(request.channel, created);
    return answer(res, 200, flaw === 'omits-task-id' ? { code: 'success' } : { code: 'success', task_id: created.task_id });
  };

  const server = createServer((req, res) => {
    // The caller's own X-Request-Id when it is a safe token, as the spec says; else a new one.
    const given = req.headers['x-request-id'];
    if (flaw !== 'no-request-id-header') {
      res.setHeader('x-request-id', flaw !== 'ignores-request-id' && typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID());
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, Buffer.concat(chunks).toString('utf8'), res);
      } catch (error) {
        if (!(error instanceof ApiFailure)) throw error;
        fail(res, error);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Whether the request passes once control characters are taken out of its IDs (what a server without the Identifier pattern accepts). */
function acceptedWithoutControlCharacters(contentType: string | undefined, raw: string): boolean {
  try {
    const body = JSON.parse(raw) as Record<string, unknown>;
    for (const field of ['app_id', 'project_id']) {
      if (typeof body[field] === 'string') body[field] = (body[field] as string).replace(/[\u0000-\u001F\u007F-\u009F]/g, '');
    }
    parseStartRequest(contentType, JSON.stringify(body));
    return true;
  } catch {
    return false;
  }
}

/** Whether the request passes with its mixResolution's frame rate made 15 (what a server without the frame-rate rule accepts). */
function acceptedAtAnyFrameRate(contentType: string | undefined, raw: string): boolean {
  try {
    const body = JSON.parse(raw) as Record<string, unknown>;
    if (typeof body.mixResolution !== 'string' || !/^\d+,\d+,\d+,\d+$/.test(body.mixResolution)) return false;
    const [w, h, , kbps] = body.mixResolution.split(',');
    parseStartRequest(contentType, JSON.stringify({ ...body, mixResolution: `${w},${h},15,${kbps}` }));
    return true;
  } catch {
    return false;
  }
}
