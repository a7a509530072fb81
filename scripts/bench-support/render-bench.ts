// The rendering benchmark: the recording pipeline's real renders (composite of 4, 9 and 17 users
// at the default and at 1280x720, and individual files), each against a plain ffmpeg encode of one
// test pattern of the same size, frame rate and length, run just before it: media seconds made
// per wall second, and the ratio of the two. A plain encode is the median of three (one alone
// varied by half between runs of the same size).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PresenceSpan, RecordingPlan } from '../../src/recording/plan.js';
import { renderRecording } from '../../src/recording/render.js';

export interface RenderRow {
  scenario: string;
  /** Seconds of media made per wall second, the scenario's and the plain encode's. */
  speed: number;
  baseline: number;
  ratio: number;
  wallSec: number;
}

const defaults = { isAudioOnly: 0, isVideoOnly: 0, mixed_video_audio: 2, layout_mode: 1, stream_type: 0, audioProfile: 0 } as const;

/** One plain encode of a test pattern, `width`x`height` at `fps`, for `seconds`: media seconds per wall second. */
function plainEncode(dir: string, width: number, height: number, fps: number, seconds: number): number {
  const started = performance.now();
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', join(dir, 'plain.mp4')]);
  return seconds / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function renderBench(mediaSeconds: number): Promise<RenderRow[]> {
  const spans = (users: number): PresenceSpan[] =>
    Array.from({ length: users }, (_, i) => ({ publisher: { uid: 1001 + i, audio: true, video: true, dual_stream: false }, from: 0, to: mediaSeconds }));
  const scenarios: { name: string; plan: RecordingPlan; plain: [number, number, number]; files: number }[] = [];
  for (const [mix, plain] of [
    ['360,640,15,500', [360, 640, 15]],
    ['1280,720,30,1500', [1280, 720, 30]],
  ] as const) {
    for (const users of [4, 9, 17]) {
      scenarios.push({
        name: `composite, ${users} users, ${mix}`,
        plan: { settings: { ...defaults, is_mixing_enabled: 1, mixResolution: mix }, durationSec: mediaSeconds, spans: spans(users) },
        plain: [...plain],
        files: 1,
      });
    }
  }
  // Individual files keep each user's own stream (320x240 at 15 fps here): one audio and one video file a user.
  scenarios.push({
    name: 'individual, 4 users (320x240 streams)',
    plan: { settings: { ...defaults, is_mixing_enabled: 0, mixResolution: '360,640,15,500' }, durationSec: mediaSeconds, spans: spans(4) },
    plain: [320, 240, 15],
    files: 4,
  });

  const rows: RenderRow[] = [];
  const baselines = new Map<string, number>();
  for (const scenario of scenarios) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudrec-bench-render-'));
    try {
      // An individual recording is one video a user: its speed counts every user's seconds.
      const size = scenario.plain.join('x');
      if (!baselines.has(size)) baselines.set(size, median([1, 2, 3].map(() => plainEncode(dir, ...scenario.plain, mediaSeconds))));
      const baseline = baselines.get(size)!;
      const started = performance.now();
      await renderRecording(scenario.plan, dir);
      const wallSec = (performance.now() - started) / 1000;
      const speed = (mediaSeconds * scenario.files) / wallSec;
      const row = { scenario: scenario.name, speed, baseline, ratio: speed / baseline, wallSec };
      rows.push(row);
      console.log(`  ${row.scenario}: ${wallSec.toFixed(2)} s for ${mediaSeconds} s of media, ${speed.toFixed(1)}× real time; plain encode ${baseline.toFixed(1)}×; ratio ${row.ratio.toFixed(3)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
