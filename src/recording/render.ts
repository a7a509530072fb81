// Makes a recording's MP4 files from its plan with ffmpeg, one ffmpeg run per file:
// individual mode one audio and one video file per user, composite mode the mixed files.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from './ffmpeg.js';
import { layoutTiles, toPixels, type LayoutMode, type PixelTile } from './layout.js';
import type { MadeFile, PresenceSpan, RecordingPlan, RenderProgress } from './plan.js';
import { probeMedia } from './probe.js';
import { audioInput, videoInput } from './sources.js';

export interface RenderOptions {
  onProgress?: (progress: RenderProgress) => void;
  signal?: AbortSignal;
  ffmpegPath?: string;
}

/** The composite canvas's colour where no user is drawn. */
export const backgroundColor = 'black';

/** audioProfile → channels and AAC bitrate of the mixed audio (always 48 kHz, AAC-LC). */
export const audioProfiles = {
  0: { channels: 1, kbps: 48 },
  1: { channels: 1, kbps: 128 },
  2: { channels: 2, kbps: 192 },
} as const;

/** One file to make: its name, what it holds, and the ffmpeg arguments that make it. */
interface Output {
  name: string;
  kind: MadeFile['kind'];
  uid?: number;
  durationSec: number;
  args: string[];
}

/** `1` while t is inside one of the ranges, else `0`: an ffmpeg expression. */
const during = (ranges: [number, number][]) =>
  ranges.map(([a, b]) => `gte(t,${a.toFixed(3)})*lt(t,${b.toFixed(3)})`).join('+') || '0';

const mp4Flags = (fragmented: boolean) => ['-movflags', fragmented ? '+frag_keyframe+empty_moov+default_base_moof' : '+faststart'];

const h264 = (fps: number, kbps: number) => [
  '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
  '-r', String(fps), '-g', String(fps * 2), '-b:v', `${kbps}k`, '-maxrate', `${kbps * 2}k`, '-bufsize', `${kbps * 2}k`,
];
const aac = (channels: number, kbps: number) => ['-c:a', 'aac', '-profile:a', 'aac_low', '-ar', '48000', '-ac', String(channels), '-b:a', `${kbps}k`];

/** Spans of each uid, in order of first join. */
function byUser(spans: PresenceSpan[]): Map<number, PresenceSpan[]> {
  const users = new Map<number, PresenceSpan[]>();
  for (const span of [...spans].sort((a, b) => a.from - b.from)) {
    users.set(span.publisher.uid, [...(users.get(span.publisher.uid) ?? []), span]);
  }
  return users;
}

/**
 * Individual mode: per user, files from its first join to its last leave; while it is away
 * the audio is silent and the video black, so every file of a user lines up with the others.
 */
async function individualOutputs(plan: RecordingPlan, wantAudio: boolean, wantVideo: boolean): Promise<Output[]> {
  const outputs: Output[] = [];
  for (const [uid, spans] of byUser(plan.spans)) {
    const start = spans[0]!.from;
    const length = Math.max(...spans.map((s) => s.to)) - start;
    const present = during(spans.map((s) => [s.from - start, s.to - start]));
    const publisher = spans[0]!.publisher;
    const gaps = spans.length > 1;

    const audio = wantAudio ? await audioInput(publisher, length) : undefined;
    if (audio) {
      const filter = gaps ? ['-af', `volume=volume='${present}':eval=frame`] : [];
      outputs.push({
        name: `uid-${uid}-audio.m4a`,
        kind: 'audio',
        uid,
        durationSec: length,
        // Resampled to 48 kHz; channels and bitrate as the source.
        args: [...audio.args, '-map', `0:${audio.stream}`, ...filter, ...aac(audio.channels, audio.kbps), '-t', length.toFixed(3), ...mp4Flags(false)],
      });
    }
    const video = wantVideo ? await videoInput(publisher, length, plan.settings.stream_type === 1) : undefined;
    if (video) {
      const size = `${video.width}x${video.height}`;
      const graph = gaps
        ? ['-filter_complex', `color=c=black:s=${size}:r=${video.fps}:d=${length.toFixed(3)}[bg];[0:${video.stream}]scale=${video.width}:${video.height},setsar=1[src];[bg][src]overlay=enable='${present}':eof_action=pass,format=yuv420p[v]`, '-map', '[v]']
        : ['-map', `0:${video.stream}`, '-vf', `scale=${video.width}:${video.height},setsar=1`];
      outputs.push({
        name: `uid-${uid}-video.mp4`,
        kind: 'video',
        uid,
        durationSec: length,
        args: [...video.args, ...graph, ...h264(video.fps, video.kbps), '-t', length.toFixed(3), ...mp4Flags(false)],
      });
    }
  }
  return outputs;
}

/** The layout from each join or leave to the next: per user, its tiles and when each is shown. */
function composition(plan: RecordingPlan, canvas: { width: number; height: number }): Map<number, { tile: PixelTile; ranges: [number, number][] }[]> {
  const videoSpans = plan.spans.filter((s) => s.publisher.video);
  const cuts = [...new Set([0, plan.durationSec, ...videoSpans.flatMap((s) => [s.from, s.to])])]
    .filter((t) => t >= 0 && t <= plan.durationSec)
    .sort((a, b) => a - b);
  const placed = new Map<number, { tile: PixelTile; ranges: [number, number][] }[]>();
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i]!, cuts[i + 1]!];
    const here = videoSpans.filter((s) => s.from <= a && s.to > a).sort((x, y) => x.from - y.from);
    const uids = [...new Set(here.map((s) => s.publisher.uid))];
    const tiles = layoutTiles(plan.settings.layout_mode as LayoutMode, canvas, uids, plan.settings.maxResolutionUid);
    for (const tile of tiles.map((t) => toPixels(t, canvas))) {
      const list = placed.get(tile.uid) ?? [];
      const same = list.find((p) => p.tile.x === tile.x && p.tile.y === tile.y && p.tile.w === tile.w && p.tile.h === tile.h && p.tile.fit === tile.fit);
      if (same) same.ranges.push([a, b]);
      else list.push({ tile, ranges: [[a, b]] });
      placed.set(tile.uid, list);
    }
  }
  return placed;
}

/**
 * A user's media in a composite graph, as the label to read it from: a synthetic publisher's made
 * by a source filter inside the graph, a file's read as an input of the command (ffmpeg gives
 * every input a thread of its own, 34 for 17 users, which cost more than they made).
 */
function graphInput(media: { args: string[]; stream: string; source?: string }, inputs: string[][], first: number, filters: string[], label: string): string {
  if (media.source) {
    filters.push(`${media.source}[${label}]`);
    return `[${label}]`;
  }
  const index = first + inputs.length;
  inputs.push(media.args);
  return `[${index}:${media.stream}]`;
}

/**
 * `[from]` scaled into a tile. Cropped to the tile's shape before scaling, so no line is scaled
 * that is cut afterwards; bilinear, as good as bicubic at tile sizes and cheaper.
 */
function intoTile(tile: PixelTile): string {
  const { w, h } = tile;
  return tile.fit === 'crop'
    ? `crop=w='min(iw,ih*${w}/${h})':h='min(ih,iw*${h}/${w})',scale=${w}:${h}:flags=bilinear`
    : `scale=${w}:${h}:force_original_aspect_ratio=decrease:flags=bilinear,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=${backgroundColor}`;
}

/**
 * The mixed video: the canvas, and each user's video scaled into its tiles while it is there. A
 * user's frames are taken at their own rate: each overlay repeats the last one until the next.
 */
async function compositeVideo(plan: RecordingPlan, inputs: string[][], first: number) {
  const [width, height, fps, kbps] = plan.settings.mixResolution.split(',').map(Number) as [number, number, number, number];
  const canvas = { width, height };
  const D = plan.durationSec.toFixed(3);
  const filters = [`color=c=${backgroundColor}:s=${width}x${height}:r=${fps}:d=${D}[c0]`];
  let last = 'c0';
  let overlays = 0;
  const publishers = new Map(plan.spans.map((s) => [s.publisher.uid, s.publisher]));
  for (const [uid, placements] of composition(plan, canvas)) {
    const video = await videoInput(publishers.get(uid)!, plan.durationSec, plan.settings.stream_type === 1);
    if (!video) continue;
    const input = graphInput(video, inputs, first, filters, `v${uid}`);
    const copies = placements.map((_, i) => `[u${uid}_${i}]`);
    if (copies.length > 1) filters.push(`${input}split=${copies.length}${copies.join('')}`);
    placements.forEach(({ tile, ranges }, i) => {
      filters.push(`${copies.length > 1 ? copies[i] : input}${intoTile(tile)},setsar=1[t${uid}_${i}]`);
      overlays += 1;
      filters.push(`[${last}][t${uid}_${i}]overlay=x=${tile.x}:y=${tile.y}:eof_action=pass:enable='${during(ranges)}'[c${overlays}]`);
      last = `c${overlays}`;
    });
  }
  filters.push(`[${last}]format=yuv420p[vout]`);
  return { filters, label: '[vout]', encode: h264(fps, kbps), drawn: overlays > 0 };
}

/** The mix's ceiling before encoding, linear: -3 dBFS, the room AAC at 48 kbps needs not to pass full scale. */
export const mixLimit = 0.708;

/** The mixed audio: every user's audio while it is there, mixed, at the audioProfile's channels and bitrate. */
async function compositeAudio(plan: RecordingPlan, inputs: string[][], first: number) {
  const filters: string[] = [];
  const mixed: string[] = [];
  for (const [uid, spans] of byUser(plan.spans)) {
    const audio = await audioInput(spans[0]!.publisher, plan.durationSec);
    if (!audio) continue;
    // Silenced while the user is away (no filter at all for one who is there throughout).
    const away = spans.some((s) => s.from <= 0 && s.to >= plan.durationSec) ? '' : `,volume=volume='${during(spans.map((s) => [s.from, s.to]))}':eval=frame`;
    filters.push(`${graphInput(audio, inputs, first, filters, `s${uid}`)}aformat=channel_layouts=stereo${away}[a${uid}]`);
    mixed.push(`[a${uid}]`);
  }
  const profile = audioProfiles[plan.settings.audioProfile as 0 | 1 | 2];
  // Summed at full level (normalize=0), so a speaker is as loud with ten others as alone, at the rate
  // the sources meet at, then resampled to 48 kHz once; then in the file's own channels (a later
  // downmix would change the peaks), the limiter keeps the sum under full scale (see mixLimit), its
  // delay compensated.
  if (mixed.length) {
    const layout = profile.channels === 1 ? 'mono' : 'stereo';
    filters.push(
      `${mixed.join('')}amix=inputs=${mixed.length}:normalize=0:duration=longest,aresample=48000,aformat=channel_layouts=${layout},` +
        `alimiter=limit=${mixLimit}:attack=5:release=50:level=0:latency=1[aout]`,
    );
  }
  return { filters, label: '[aout]', encode: aac(profile.channels, profile.kbps), heard: mixed.length > 0 };
}

async function compositeOutputs(plan: RecordingPlan, wantAudio: boolean, wantVideo: boolean): Promise<Output[]> {
  const { mixed_video_audio: together } = plan.settings;
  const D = plan.durationSec.toFixed(3);
  const build = async (audio: boolean, video: boolean) => {
    // The canvas is input 0 (lavfi inside the graph), so user inputs count from 0.
    const inputs: string[][] = [];
    const v = video ? await compositeVideo(plan, inputs, 0) : undefined;
    const a = audio ? await compositeAudio(plan, inputs, 0) : undefined;
    return { inputs, v: v?.drawn ? v : undefined, a: a?.heard ? a : undefined };
  };
  const args = (parts: Awaited<ReturnType<typeof build>>, fragmented: boolean) => [
    // One thread for the graph: on slices of its small frames, threads waited on each other and took
    // the cores from the encoder's (a 17-user 1280x720 mix on 2 cores: 3.9 s with them, 2.8-3.2 s without).
    '-filter_complex_threads', '1',
    ...parts.inputs.flat(),
    '-filter_complex', [...(parts.v?.filters ?? []), ...(parts.a?.filters ?? [])].join(';'),
    ...(parts.v ? ['-map', parts.v.label, ...parts.v.encode] : []),
    ...(parts.a ? ['-map', parts.a.label, ...parts.a.encode] : []),
    '-t', D, ...mp4Flags(fragmented),
  ];

  // One file holding both when asked for and both are there; 1 is the fragmented (limited) form.
  if ((together === 1 || together === 2) && wantAudio && wantVideo) {
    const parts = await build(true, true);
    if (parts.v && parts.a) return [{ name: 'mix.mp4', kind: 'mixed', durationSec: plan.durationSec, args: args(parts, together === 1) }];
  }
  const outputs: Output[] = [];
  if (wantAudio) {
    const parts = await build(true, false);
    if (parts.a) outputs.push({ name: 'mix-audio.m4a', kind: 'audio', durationSec: plan.durationSec, args: args(parts, false) });
  }
  if (wantVideo) {
    const parts = await build(false, true);
    if (parts.v) outputs.push({ name: 'mix-video.mp4', kind: 'video', durationSec: plan.durationSec, args: args(parts, false) });
  }
  return outputs;
}

/** Makes the files of a recording into `outDir`; none when nothing was published. */
export async function renderRecording(plan: RecordingPlan, outDir: string, options: RenderOptions = {}): Promise<MadeFile[]> {
  const wantAudio = plan.settings.isVideoOnly !== 1;
  const wantVideo = plan.settings.isAudioOnly !== 1;
  if (plan.durationSec <= 0 || plan.spans.length === 0) return [];
  const outputs =
    plan.settings.is_mixing_enabled === 1
      ? await compositeOutputs(plan, wantAudio, wantVideo)
      : await individualOutputs(plan, wantAudio, wantVideo);

  const made: MadeFile[] = [];
  for (const output of outputs) {
    const path = join(outDir, output.name);
    const step = `rendering ${output.name}`;
    options.onProgress?.({ step, done: 0, total: output.durationSec });
    try {
      await runFfmpeg({
        args: [...output.args, path],
        durationSec: output.durationSec,
        signal: options.signal,
        ffmpegPath: options.ffmpegPath,
        onProgress: (done) => options.onProgress?.({ step, done, total: output.durationSec }),
      });
    } catch (error) {
      throw new Error(`making ${output.name} failed: ${(error as Error).message}`);
    }
    const probe = await probeMedia(path);
    made.push({
      name: output.name,
      kind: output.kind,
      ...(output.uid !== undefined ? { uid: output.uid } : {}),
      path,
      bytes: statSync(path).size,
      duration_sec: Math.round(probe.duration * 1000) / 1000,
    });
  }
  return made;
}
