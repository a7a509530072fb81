// The composite audio's level, measured on the encoded file: never above full scale however many
// users are mixed, and each speaker as loud as alone (the mix sums; it does not divide by users).
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { renderRecording } from '../../src/recording/render.js';
import { tempDir } from '../support/temp-dir.js';

/** Peak and RMS of the file's audio, in dBFS, by ffmpeg's astats. */
function levels(path: string): { peak: number; rms: number } {
  const out = execFileSync('sh', ['-c', `ffmpeg -hide_banner -i '${path}' -af astats=measure_overall=Peak_level+RMS_level:measure_perchannel=none -f null - 2>&1`], { encoding: 'utf8' });
  const read = (name: string) => Number(new RegExp(`${name} level dB: (-?[\\d.]+)`).exec(out)![1]);
  return { peak: read('Peak'), rms: read('RMS') };
}

async function mixOf(users: number, audioProfile: 0 | 1 | 2) {
  const spans = Array.from({ length: users }, (_, i) => ({ publisher: { uid: 1001 + i, audio: true, video: false, dual_stream: false }, from: 0, to: 3 }));
  const settings = { isAudioOnly: 1, isVideoOnly: 0, is_mixing_enabled: 1, mixed_video_audio: 0, layout_mode: 0, stream_type: 0, audioProfile, mixResolution: '360,640,15,500' } as const;
  const [file] = await renderRecording({ settings, durationSec: 3, spans }, tempDir('cloudrec-mix-'));
  return levels(file!.path);
}

describe.each([0, 2] as const)('the mixed audio, audioProfile %i', (profile) => {
  test('never passes full scale, with 1, 9 or 17 users, and is never quieter than one user alone', async () => {
    const alone = await mixOf(1, profile);
    for (const users of [9, 17]) {
      const mix = await mixOf(users, profile);
      console.log(`profile ${profile}: ${users} users peak ${mix.peak} dBFS, RMS ${mix.rms} (one alone: RMS ${alone.rms})`);
      expect(mix.peak).toBeLessThan(-0.5);
      expect(mix.rms).toBeGreaterThan(alone.rms);
    }
  });

  test('two users below full scale are each as loud as alone: their powers add (+3 dB), nothing is divided', async () => {
    const alone = await mixOf(1, profile);
    const two = await mixOf(2, profile);
    expect(two.rms - alone.rms).toBeGreaterThan(2.5);
    expect(two.rms - alone.rms).toBeLessThan(3.5);
  });
});
