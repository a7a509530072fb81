// A server killed (SIGKILL) while it renders: no ffmpeg of its outlives it. Before, the previous
// run's ffmpeg kept rendering as an orphan and the next start had to wait for it.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';

const ids = { app_id: 'orphan-app', project_id: 'orphan-proj', sign_key: 'orphan-key', channel: 'orphan-room' };
let server: ReferenceServer;

/** The processes whose command line mentions `text`, as "pid command". */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (command.includes(text) && !command.includes('vitest')) found.push(`${pid} ${command.slice(0, 80)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

beforeAll(async () => {
  // Compiled, so the process's pid is the server itself, which alone is killed, as the OOM killer would.
  server = await startReferenceServer({ CLOUDREC_LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  await arrangeProject(server.baseUrl, { ...ids, uids: Array.from({ length: 17 }, (_, i) => 2001 + i) });
}, 60_000);
afterAll(async () => {
  await server?.stop(); // the whole group: whatever is left
  server?.remove();
});

test('SIGKILL during a render leaves no ffmpeg running', async () => {
  // 17 users at 1280×720 30 fps: the render takes several seconds, long enough to be killed in it.
  const taskId = await startTask(server.baseUrl, { ...ids, is_mixing_enabled: 1, mixResolution: '1280,720,30,1500' });
  await new Promise((r) => setTimeout(r, 6_000));
  await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  let rendering: string[] = [];
  for (let i = 0; i < 100 && rendering.length === 0; i++) {
    rendering = processesMentioning(server.dataDir).filter((p) => p.includes('ffmpeg'));
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(`rendering: ${rendering.length} ffmpeg process(es); killing the server (its pid alone) with SIGKILL`);
  expect(rendering.length).toBeGreaterThan(0);
  process.kill(server.process.child.pid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  const left = processesMentioning(server.dataDir).filter((p) => p.includes('ffmpeg'));
  console.log(`1 s after the kill: ${left.length} ffmpeg process(es) left${left.length ? `: ${left.join('; ')}` : ''}`);
  expect(left).toEqual([]);
}, 120_000);
