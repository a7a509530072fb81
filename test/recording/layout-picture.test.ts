// A picture of each layout: users publish solid colours, the composite is rendered by ffmpeg,
// a frame is grabbed from the MP4 and each user's colour is looked for where its tile should be.
// The frames are kept as artefacts in test-results/layouts/.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';

import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { layoutTiles, toPixels, type LayoutMode } from '../../src/recording/layout.js';
import type { PresenceSpan } from '../../src/recording/plan.js';
import { renderRecording } from '../../src/recording/render.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const dir = tempDir('cloudrec-layout-');
const artefacts = resolve(import.meta.dirname, '../../test-results/layouts');
const canvas = { width: 320, height: 240 };
const colours: [string, [number, number, number]][] = [
  ['0xFF0000', [255, 0, 0]],
  ['0x00FF00', [0, 255, 0]],
  ['0x0000FF', [0, 0, 255]],
  ['0xFFFF00', [255, 255, 0]],
  ['0xFF00FF', [255, 0, 255]],
  ['0x00FFFF', [0, 255, 255]],
  ['0xFFFFFF', [255, 255, 255]],
];
// Solid colours survive H.264 and 4:2:0 within this much per channel, away from tile edges.
const tolerance = 48;

beforeAll(async () => {
  mkdirSync(artefacts, { recursive: true });
  // 4:3 sources, so the vertical layout's letterboxed large tile differs from a cropped one.
  await Promise.all(
    colours.map(([hex], i) => run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${hex}:s=160x120:r=15:d=2`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, `c${i}.mp4`)])),
  );
});

/** The RGB frame at `seconds` of the video, and a PNG copy of it. */
async function frameAt(video: string, seconds: number, png: string): Promise<Buffer> {
  await run('ffmpeg', ['-v', 'error', '-y', '-ss', String(seconds), '-i', video, '-frames:v', '1', png]);
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-ss', String(seconds), '-i', video, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

const pixel = (frame: Buffer, x: number, y: number) => {
  const at = (y * canvas.width + x) * 3;
  return [frame[at]!, frame[at + 1]!, frame[at + 2]!] as const;
};
const near = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

/** The bounding box of the pixels near `rgb`, or undefined when there are none. */
function boxOf(frame: Buffer, rgb: readonly number[]) {
  let [x0, y0, x1, y1, count] = [Infinity, Infinity, -1, -1, 0];
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      if (!near(pixel(frame, x, y), rgb)) continue;
      count++;
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  return count ? { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1, count } : undefined;
}

describe.each([
  [0, 'floating', 5],
  [1, 'best-fit', 5],
  [2, 'vertical', 5],
  [1, 'best-fit', 2],
  [2, 'vertical', 7],
] as [LayoutMode, string, number][])('layout %i (%s) with %i users', (mode, name, users) => {
  test('shows each user in its own tile, where the layout puts it, the tiles apart', async () => {
    const spans: PresenceSpan[] = Array.from({ length: users }, (_, i) => ({
      publisher: { uid: 10 + i, audio: false, video: true, dual_stream: false, media_file: join(dir, `c${i}.mp4`) },
      from: 0,
      to: 2,
    }));
    const out = mkdtempSync(join(dir, 'out-'));
    const settings = { isAudioOnly: 0, isVideoOnly: 1, is_mixing_enabled: 1, mixed_video_audio: 0, layout_mode: mode, stream_type: 0, audioProfile: 0, mixResolution: `${canvas.width},${canvas.height},15,800` } as const;
    const [file] = await renderRecording({ settings, durationSec: 2, spans }, out);
    expect(file?.name).toBe('mix-video.mp4');
    const frame = await frameAt(file!.path, 1, join(artefacts, `${mode}-${name}-${users}.png`));

    const tiles = layoutTiles(mode, canvas, spans.map((s) => s.publisher.uid)).map((t) => toPixels(t, canvas));
    const found = tiles.map((tile) => {
      const index = tile.uid - 10;
      // The centre of each tile shows that user's colour.
      expect(near(pixel(frame, tile.x + (tile.w >> 1), tile.y + (tile.h >> 1)), colours[index]![1]), `centre of ${tile.uid}`).toBe(true);
      return { tile, box: boxOf(frame, colours[index]![1]) };
    });
    // Every user's colour is on the picture, once each: as many tiles as users.
    expect(found.filter((f) => f.box).length).toBe(users);
    // Each tile drawn over nothing else (floating: all but the full-canvas first) is where the layout says, to a few pixels.
    const placedAlone = mode === 0 ? found.slice(1) : found;
    for (const { tile, box } of placedAlone) {
      if (tile.fit === 'fit') {
        // Letterboxed: as wide or as tall as its tile, centred in it.
        expect(box!.w >= tile.w - 4 || box!.h >= tile.h - 4).toBe(true);
        expect(Math.abs(box!.x + box!.w / 2 - (tile.x + tile.w / 2))).toBeLessThanOrEqual(3);
      } else {
        for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(box![k] - tile[k]), `${k} of ${tile.uid}`).toBeLessThanOrEqual(3);
      }
    }
    // The tiles do not overlap: their pixel counts add up to no more than the canvas.
    const boxes = placedAlone.map((f) => f.box!);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = a.x + a.w <= b.x + 2 || b.x + b.w <= a.x + 2 || a.y + a.h <= b.y + 2 || b.y + b.h <= a.y + 2;
        expect(apart).toBe(true);
      }
    }
  }, 30_000);
});

test('a user who joins during the recording changes the layout from that moment on', async () => {
  const spans: PresenceSpan[] = [
    { publisher: { uid: 10, audio: false, video: true, dual_stream: false, media_file: join(dir, 'c0.mp4') }, from: 0, to: 2 },
    { publisher: { uid: 11, audio: false, video: true, dual_stream: false, media_file: join(dir, 'c1.mp4') }, from: 1, to: 2 },
  ];
  const out = mkdtempSync(join(dir, 'join-'));
  const settings = { isAudioOnly: 0, isVideoOnly: 1, is_mixing_enabled: 1, mixed_video_audio: 0, layout_mode: 1, stream_type: 0, audioProfile: 0, mixResolution: `${canvas.width},${canvas.height},15,800` } as const;
  const [file] = await renderRecording({ settings, durationSec: 2, spans }, out);
  const before = await frameAt(file!.path, 0.5, join(artefacts, 'join-before.png'));
  const after = await frameAt(file!.path, 1.5, join(artefacts, 'join-after.png'));
  // Alone: the first user fills the canvas. Then: two halves side by side.
  expect(boxOf(before, colours[0]![1])).toMatchObject({ x: 0, y: 0, w: canvas.width, h: canvas.height });
  expect(boxOf(before, colours[1]![1])).toBeUndefined();
  expect(boxOf(after, colours[0]![1])).toMatchObject({ x: 0, w: canvas.width / 2 });
  expect(boxOf(after, colours[1]![1])).toMatchObject({ x: canvas.width / 2, w: canvas.width / 2 });
}, 30_000);
