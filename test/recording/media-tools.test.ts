// The start-up check of ffmpeg and ffprobe: what it asks of them is what the renders use, and a
// machine without them (or with too old an ffmpeg) is told what is missing.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { mediaToolProblems, requiredEncoders, requiredFilters } from '../../src/recording/media-tools.js';
import type { RecordingPlan, RecordingSettings } from '../../src/recording/plan.js';
import { renderRecording } from '../../src/recording/render.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('cloudrec-media-tools-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script at `dir/name`. */
function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const settings = (fields: Partial<RecordingSettings>): RecordingSettings => ({
  isAudioOnly: 0, isVideoOnly: 0, is_mixing_enabled: 0, mixed_video_audio: 2, layout_mode: 0, stream_type: 0, audioProfile: 0,
  mixResolution: '320,240,15,300', ...fields,
});

describe('what the renders ask of ffmpeg', () => {
  test('every filter and encoder of every kind of render is one the start-up check asks for', async () => {
    // ffmpeg itself, its arguments written down on the way.
    const argsLog = join(dir, 'args.log');
    const ffmpeg = script('logging-ffmpeg', `printf '%s\\n' "$@" >> '${argsLog}'\nexec ffmpeg "$@"`);
    const publisher = (uid: number, dual = false) => ({ uid, audio: true, video: true, dual_stream: dual });
    const spans = [
      { publisher: publisher(1, true), from: 0, to: 1.5 },
      { publisher: publisher(2), from: 0.5, to: 1.5 },
    ];
    const plans: RecordingPlan[] = [
      { settings: settings({ is_mixing_enabled: 1, layout_mode: 0 }), durationSec: 1.5, spans },
      { settings: settings({ is_mixing_enabled: 1, layout_mode: 1, mixed_video_audio: 0 }), durationSec: 1.5, spans },
      { settings: settings({ is_mixing_enabled: 1, layout_mode: 2, mixed_video_audio: 1 }), durationSec: 1.5, spans },
      { settings: settings({ stream_type: 1 }), durationSec: 1.5, spans },
      { settings: settings({ isAudioOnly: 1, audioProfile: 2 }), durationSec: 1.5, spans },
    ];
    for (const [i, plan] of plans.entries()) {
      const out = mkdtempSync(join(dir, `render-${i}-`));
      expect((await renderRecording(plan, out, { ffmpegPath: ffmpeg })).length, `render ${i}`).toBeGreaterThan(0);
    }
    const args = readFileSync(argsLog, 'utf8').split('\n');
    // Filter names: the start of each filter in a graph (after `;`, `,`, `]` or the start), before `=`, `,`, `;` or `[`.
    const graphs = args.filter((_, i) => ['-filter_complex', '-vf', '-af', '-i'].includes(args[i - 1] ?? ''));
    const used = new Set(graphs.flatMap((graph) => [...graph.matchAll(/(?:^|[;,\]])\s*([a-z][a-z0-9_]*)(?=[=,;[]|$)/g)].map((m) => m[1]!)));
    const encoders = new Set(args.filter((_, i) => /^-c:[av]$/.test(args[i - 1] ?? '')));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((f) => !(requiredFilters as readonly string[]).includes(f))).toEqual([]);
    expect([...encoders].filter((e) => e !== 'copy' && !(requiredEncoders as readonly string[]).includes(e))).toEqual([]);
  });
});

describe('the start-up check', () => {
  test("finds nothing missing in this machine's ffmpeg and ffprobe", async () => {
    expect(await mediaToolProblems()).toEqual([]);
  });

  test('names ffmpeg and ffprobe when neither is there, and says how to install them', async () => {
    const problems = await mediaToolProblems({ ffmpegPath: join(dir, 'no-ffmpeg'), ffprobePath: join(dir, 'no-ffprobe') });
    expect(problems).toEqual([
      `${join(dir, 'no-ffmpeg')} was not found (or cannot be run) on the PATH.`,
      `${join(dir, 'no-ffprobe')} was not found (or cannot be run) on the PATH.`,
      expect.stringMatching(/^Install FFmpeg 5 or newer .*apt-get install ffmpeg/),
    ]);
  });

  test('names what an old ffmpeg lacks: filters, encoders and options', async () => {
    // An ffmpeg that lists every filter but alimiter, has no libx264, and an amix without normalize.
    const filters = requiredFilters.filter((f) => f !== 'alimiter').map((f) => ` ... ${f}  A->A  a filter`).join('\\n');
    const old = script(
      'old-ffmpeg',
      `case "$2" in
  -filters) printf 'Filters:\\n${filters}\\n' ;;
  -encoders) printf 'Encoders:\\n A..... aac  AAC\\n' ;;
  -version) echo 'ffmpeg version 4.2.7 Copyright' ;;
  -h) echo 'amix AVOptions:'; echo '   inputs  <int>' ;;
esac`,
    );
    const problems = await mediaToolProblems({ ffmpegPath: old, ffprobePath: 'ffprobe' });
    expect(problems[0]).toBe(`${old} 4.2.7 lacks the alimiter filter, the libx264 encoder, the normalize option of amix.`);
    expect(problems).toHaveLength(2);
  });
});
