// The `cloudrec` command as a user runs it (bin/cloudrec.js in its own process), against the
// reference server, an s3rver store and the Prism mock started here.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiValidator } from '../../src/spec/api-document.js';
import { requestProperties } from '../../src/conformance/request-schema.js';
import { freePort } from '../support/free-port.js';
import { startHttpServer } from '../support/http-server.js';
import { projectRoot } from '../support/prism.js';
import { startProcess } from '../support/process.js';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';
import { tempDir } from '../support/temp-dir.js';

const bin = join(projectRoot, 'bin/cloudrec.js');
const run = promisify(execFile);

/** Runs `cloudrec ...args`; resolves with its exit code and output (never rejects on a non-zero exit). */
async function cloudrec(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [bin, ...args], { cwd: projectRoot, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const requestFields = Object.keys(requestProperties);
const project = { app_id: 'cli-app', project_id: 'cli-proj', sign_key: 'cli-secret-key', channel: 'cli-room' };
const ids = (channel = project.channel) => ['--app_id', project.app_id, '--project_id', project.project_id, '--sign_key', project.sign_key, '--channel', channel];

let server: ReferenceServer;
let storage: StorageServer;
beforeAll(async () => {
  storage = await startStorageServer();
  server = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '1000' });
  await arrangeProject(server.baseUrl, { ...project, uids: [1] }, storage.settings());
}, 60_000);
afterAll(async () => {
  await server?.stop();
  server?.remove();
  await storage?.remove();
});

describe('cloudrec help', () => {
  test('--version prints the version, which is the spec\'s', async () => {
    const { code, stdout } = await cloudrec('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`cloudrec ${(apiValidator.resolve('/info').value as { version: string }).version}`);
  });

  test('suggests the command meant by a typo (exit 2)', async () => {
    const { code, stderr } = await cloudrec('stat', '1');
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "stat". Did you mean "start"\?|Did you mean "status"\?/);
  });

  test('lists the commands and the exit codes', async () => {
    const { code, stdout } = await cloudrec('help');
    expect(code).toBe(0);
    for (const command of ['serve', 'mock', 'docs', 'start', 'status']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toMatch(/Exit codes:\n  0 .*\n  1 .*\n  2 .*\n  3 .*\n  4 /);
  });

  test('start --help has a flag for every request field of the spec, with its description', async () => {
    const { code, stdout } = await cloudrec('start', '--help');
    expect(code).toBe(0);
    for (const field of requestFields) expect(stdout).toMatch(new RegExp(`^  --${field} <`, 'm'));
    expect(stdout).toContain('1: Composite recording, one mixed audio file and one mixed video file.');
    expect(stdout).toContain('--mixed_video_audio <0|1|2>  (default 2)');
  });
});

describe('cloudrec start', () => {
  test('starts a recording and prints its task id, without the sign_key', async () => {
    const { code, stdout } = await cloudrec('start', ...ids(), '--is_mixing_enabled', '1', '--url', server.baseUrl);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Recording task \d+ started for channel cli-room/);
    expect(stdout).not.toContain(project.sign_key);
  });

  test('prints the answer as JSON with --json', async () => {
    await sandbox(server.baseUrl, 'PUT', '/sandbox/apps/cli-app/channels/json-room/users/2', {});
    const { code, stdout } = await cloudrec('start', ...ids('json-room'), '--json', '--url', server.baseUrl);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 200, code: 'success', task_id: expect.any(Number) });
  });

  test.each([
    [['--layout_mode', '7'], /layout_mode: must be one of 0, 1, 2/],
    [['--isAudioOnly', '1', '--isVideoOnly', '1'], /isAudioOnly, isVideoOnly: `isAudioOnly` and `isVideoOnly` are never both 1/],
    [['--mixResolution', '640x360'], /mixResolution: must match pattern/],
    [['--stream_type', 'high'], /stream_type: must be an integer/],
  ])('refuses %j before sending, naming the field and the rule (exit 2)', async (extra, message) => {
    const { code, stderr } = await cloudrec('start', ...ids(), ...extra, '--url', 'http://127.0.0.1:1');
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test('refuses a missing required field and an unknown flag (exit 2)', async () => {
    const missing = await cloudrec('start', '--app_id', 'a', '--project_id', 'p', '--channel', 'c');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/sign_key: is required/);
    const unknown = await cloudrec('start', ...ids(), '--isAudioonly', '1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option --isAudioonly\. Did you mean --isAudioOnly\?/);
  });

  test('a value starting with a dash is refused with how to write it, and sent when written --flag=value', async () => {
    const base = ['--app_id', project.app_id, '--project_id', project.project_id, '--channel', 'dash-room', '--url', server.baseUrl];
    const spaced = await cloudrec('start', ...base, '--sign_key', '-k3y');
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain('--sign_key has a value starting with "-": write it as --sign_key=<value>.');
    const joined = await cloudrec('start', ...base, '--sign_key=-k3y');
    expect(joined.code).toBe(1);
    expect(joined.stdout).toMatch(/401 invalid_credentials/);
  });

  test('takes every flag as the spec writes it and in kebab-case, alike', async () => {
    await sandbox(server.baseUrl, 'PUT', '/sandbox/apps/cli-app/channels/kebab-room/users/3', {});
    const kebab = ['--app-id', project.app_id, '--project-id', project.project_id, '--sign-key', project.sign_key, '--channel', 'kebab-room'];
    const first = await cloudrec('start', ...kebab, '--is-audio-only', '1', '--mix-resolution', '640,360,15,500', '--json', '--url', server.baseUrl);
    expect(first.code).toBe(0);
    // The same settings in the spec's spelling are an identical repeat: the same task.
    const again = await cloudrec('start', ...ids('kebab-room'), '--isAudioOnly', '1', '--mixResolution', '640,360,15,500', '--json', '--url', server.baseUrl);
    expect(JSON.parse(again.stdout).task_id).toBe(JSON.parse(first.stdout).task_id);
    const both = await cloudrec('start', ...ids(), '--isAudioOnly', '1', '--is-audio-only', '0');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--isAudioOnly and --is-audio-only are the same option/);
  });

  test.each(['127.0.0.1:8787', 'localhost:8787', 'ftp://127.0.0.1', 'not a url'])('refuses --url %s as a usage error (exit 2)', async (url) => {
    const { code, stderr } = await cloudrec('start', ...ids(), '--url', url);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--url must be an http:\/\/ or https:\/\/ address/);
  });

  test('says what came back when the answer is outside the spec, an empty one included (exit 1)', async () => {
    const empty = await startHttpServer((_req, res) => res.writeHead(200).end());
    try {
      const { code, stderr } = await cloudrec('start', ...ids(), '--url', empty.url, '--maxRetries', '0');
      expect(code).toBe(1);
      expect(stderr).toMatch(/answered 200 outside the spec: \(an empty body\)/);
      expect(stderr).not.toContain('undefined');
    } finally {
      await empty.close();
    }
  });

  test("prints the API's error code when the API refuses (exit 1)", async () => {
    const { code, stdout } = await cloudrec('start', ...ids(), '--sign_key', 'wrong-key', '--url', server.baseUrl);
    expect(code).toBe(1);
    expect(stdout).toMatch(/The API answered 401 invalid_credentials: /);
    expect(stdout).not.toContain('wrong-key');
  });

  test('says so when the server cannot be reached (exit 3)', async () => {
    const { code, stderr } = await cloudrec('start', ...ids(), '--url', `http://127.0.0.1:${await freePort()}`);
    expect(code).toBe(3);
    expect(stderr).toMatch(/Could not reach .*ECONNREFUSED.*cloudrec serve/);
  });
});

describe('cloudrec status', () => {
  const startIn = async (channel: string, fields: object = {}, ids_ = project) => {
    await sandbox(server.baseUrl, 'PUT', `/sandbox/apps/${ids_.app_id}/channels/${channel}/users/5`, {});
    return startTask(server.baseUrl, { ...ids_, channel, ...fields });
  };

  test("prints a task's state", async () => {
    const taskId = await startIn('status-room');
    const { code, stdout } = await cloudrec('status', String(taskId), '--url', server.baseUrl);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Task ${taskId}: recording`));
  });

  test('--follow shows progress until the task completes, then its files (exit 0)', async () => {
    const taskId = await startIn('follow-room', { isAudioOnly: 1, is_mixing_enabled: 1 });
    // Stopped only once the command has shown the recording, so the test does not race its start.
    const follow = await startProcess('node', [bin, 'status', String(taskId), '--follow', '--interval', '0.2', '--url', server.baseUrl], {
      ready: /^recording: recording/m,
      cwd: projectRoot,
    });
    const exited = new Promise<number | null>((resolve) => follow.child.once('exit', resolve));
    await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
    expect(await exited).toBe(0);
    const stdout = follow.output();
    expect(stdout).toMatch(new RegExp(`^Task ${taskId}: completed \\(ended: stopped\\)`, 'm'));
    expect(stdout).toMatch(new RegExp(`uploaded mix-audio\\.m4a .* → cli-proj/follow-room/${taskId}/mix-audio\\.m4a`));
  }, 60_000);

  test('--follow ends with exit 4 and the reason when the task fails', async () => {
    const other = { ...project, project_id: 'cli-nobucket' };
    await arrangeProject(server.baseUrl, other, storage.settings('no-such-bucket'));
    const taskId = await startIn('fail-room', { isAudioOnly: 1 }, other);
    setTimeout(() => void sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`), 1000);
    const { code, stdout } = await cloudrec('status', String(taskId), '--follow', '--interval', '0.2', '--url', server.baseUrl);
    expect(code).toBe(4);
    expect(stdout).toMatch(/failure: .*the bucket does not exist/);
  }, 60_000);

  test('refuses a task id that is not a positive integer (exit 2), and reports an unknown task (exit 1)', async () => {
    expect((await cloudrec('status', 'abc')).code).toBe(2);
    const unknown = await cloudrec('status', '999999', '--url', server.baseUrl);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404 not_found/);
  });
});

describe('cloudrec serve and mock', () => {
  test('serve runs the reference server with the options given', async () => {
    const port = await freePort();
    const data = tempDir('cloudrec-cli-serve-');
    const served = await startProcess('node', [bin, 'serve', '--port', String(port), '--data-dir', data, '--demo', 'off'], { ready: /reference server on http/, cwd: projectRoot });
    try {
      const spec = await fetch(`http://127.0.0.1:${port}/openapi.json`);
      expect(spec.status).toBe(200);
    } finally {
      await served.stop();
    }
  }, 30_000);

  test('serve refuses a bad setting, naming it (exit 2)', async () => {
    const { code, stderr } = await cloudrec('serve', '--idle-timeout-sec', '1', '--demo', 'off');
    expect(code).toBe(2);
    expect(stderr).toMatch(/CLOUDREC_IDLE_TIMEOUT_SEC: must be an integer from 3/);
  });

  test('serve on a machine without ffmpeg says what is missing and how to install it, and does not start (exit 2)', async () => {
    const data = tempDir('cloudrec-cli-serve-');
    // Only Node's own folder on the PATH: no ffmpeg, no ffprobe.
    const env = { ...process.env, PATH: dirname(process.execPath) };
    const served = await run(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', data, '--demo', 'off'], { cwd: projectRoot, env, timeout: 30_000 }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    rmSync(data, { recursive: true, force: true });
    expect(served.code).toBe(2);
    expect(served.stderr).toMatch(/^cloudrec: this machine cannot record, so the server does not start\.\n  ffmpeg was not found .*\n  ffprobe was not found .*\n  Install FFmpeg 5 or newer .*apt-get install ffmpeg/);
    expect(served.stdout).not.toMatch(/reference server on/);
  });

  test.each([
    { flag: '--port', what: 'the API', variable: 'CLOUDREC_PORT' },
    { flag: '--demo-storage-port', what: 'the demo storage', variable: 'CLOUDREC_DEMO_STORAGE_PORT' },
  ])('serve with $flag taken by another process says the port is in use (exit 2)', async ({ flag, what, variable }) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const data = tempDir('cloudrec-cli-serve-');
    try {
      const other = flag === '--port' ? ['--demo-storage-port', String(await freePort())] : ['--port', String(await freePort())];
      const served = await cloudrec('serve', flag, String(port), ...other, '--data-dir', data);
      expect(served.code).toBe(2);
      expect(served.stderr).toContain(`cloudrec: port ${port} is in use (wanted for ${what} on 127.0.0.1): stop what uses it, or choose another with ${flag} (${variable}).`);
      expect(served.stderr).not.toMatch(/uncaught|\n\s+at /);
    } finally {
      taken.close();
      rmSync(data, { recursive: true, force: true });
    }
  });

  test('mock runs Prism, and start talks to it', async () => {
    const port = await freePort();
    const mock = await startProcess('node', [bin, 'mock', '--port', String(port)], { ready: /Prism is listening|listening/i, cwd: projectRoot });
    try {
      const { code, stdout } = await cloudrec('start', ...ids(), '--json', '--url', `http://127.0.0.1:${port}`);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ status: 200, code: 'success' });
    } finally {
      await mock.stop();
    }
  }, 60_000);
});
