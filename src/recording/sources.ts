// What a sandbox user publishes, as ffmpeg inputs: a synthetic source (a test pattern with the
// user's id on it and a tone whose pitch depends on the uid), or a media file played in a loop.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Publisher } from './plan.js';
import { probeMedia, type Probe } from './probe.js';

/** The synthetic publisher: small frames keep rendering fast; 44.1 kHz shows the 48 kHz resampling. */
export const syntheticSource = {
  /** The large (high) stream, and the small (low) one sent in dual-stream mode. */
  high: { width: 320, height: 240, kbps: 300 },
  low: { width: 160, height: 120, kbps: 100 },
  fps: 15,
  audio: { sampleRate: 44_100, channels: 1, kbps: 48 },
};

const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** The tone of a uid: 300 Hz to 1060 Hz in steps of 40, so users sound apart in a mix. */
export const toneHz = (uid: number) => 300 + (uid % 20) * 40;

export interface VideoInput {
  /** The ffmpeg input arguments (`-f lavfi -i ...` or `-stream_loop -1 ... -i file`). */
  args: string[];
  /** A synthetic publisher's media as a source filter, to make it inside a filter graph instead. */
  source?: string;
  /** Which stream of the input: `v:0`. */
  stream: string;
  width: number;
  height: number;
  fps: number;
  kbps: number;
}

export interface AudioInput {
  args: string[];
  source?: string;
  stream: string;
  sampleRate: number;
  channels: number;
  kbps: number;
}

/** A file's probe, read once per file and kept. ffprobe's own words stay out of the error: they may quote the file. */
const probes = new Map<string, Promise<Probe>>();
const probeOnce = (path: string) => {
  if (!probes.has(path)) {
    const probe = probeMedia(path).catch(() => {
      probes.delete(path);
      throw new Error(`the media file ${basename(path)} is not audio or video that ffmpeg can read`);
    });
    probes.set(path, probe);
  }
  return probes.get(path)!;
};

/** ffmpeg input arguments of a media file, looped: local files only, the name never read as a protocol. */
const loopedFile = (path: string, seconds: number) => ['-protocol_whitelist', 'file', '-stream_loop', '-1', '-t', seconds.toFixed(3), '-i', `file:${path}`];

const fraction = (rate: string | undefined) => {
  const [n, d] = (rate ?? '15/1').split('/').map(Number);
  return n && d ? n / d : 15;
};

/** The publisher's video for `seconds`: the low stream when it is asked for and published, else the one there is. */
export async function videoInput(publisher: Publisher, seconds: number, lowStream: boolean): Promise<VideoInput | undefined> {
  if (!publisher.video) return undefined;
  const low = lowStream && publisher.dual_stream;
  if (publisher.media_file) {
    const stream = (await probeOnce(publisher.media_file)).streams.find((s) => s.codec_type === 'video');
    if (!stream?.width || !stream.height) return undefined;
    const divide = low ? 2 : 1;
    return {
      args: loopedFile(publisher.media_file, seconds),
      stream: 'v:0',
      width: Math.round(stream.width / divide / 2) * 2,
      height: Math.round(stream.height / divide / 2) * 2,
      fps: fraction(stream.r_frame_rate),
      kbps: stream.bit_rate ? Math.round(Number(stream.bit_rate) / 1000 / divide) : syntheticSource.high.kbps,
    };
  }
  const size = low ? syntheticSource.low : syntheticSource.high;
  const label = existsSync(font)
    ? `,drawtext=fontfile=${font}:text='uid ${publisher.uid}':fontsize=${Math.round(size.height / 6)}:fontcolor=white:box=1:boxcolor=black@0.6:x=(w-tw)/2:y=(h-th)/2`
    : '';
  const source = `testsrc2=size=${size.width}x${size.height}:rate=${syntheticSource.fps}:duration=${seconds.toFixed(3)}${label}`;
  return {
    args: ['-f', 'lavfi', '-i', source],
    source,
    stream: 'v:0',
    width: size.width,
    height: size.height,
    fps: syntheticSource.fps,
    kbps: size.kbps,
  };
}

/** The publisher's audio for `seconds`, or undefined when it publishes none. */
export async function audioInput(publisher: Publisher, seconds: number): Promise<AudioInput | undefined> {
  if (!publisher.audio) return undefined;
  if (publisher.media_file) {
    const stream = (await probeOnce(publisher.media_file)).streams.find((s) => s.codec_type === 'audio');
    if (!stream) return undefined;
    return {
      args: loopedFile(publisher.media_file, seconds),
      stream: 'a:0',
      sampleRate: Number(stream.sample_rate ?? 48_000),
      channels: stream.channels ?? 2,
      kbps: stream.bit_rate ? Math.round(Number(stream.bit_rate) / 1000) : 128,
    };
  }
  const { sampleRate, channels, kbps } = syntheticSource.audio;
  const source = `sine=frequency=${toneHz(publisher.uid)}:sample_rate=${sampleRate}:duration=${seconds.toFixed(3)}`;
  return {
    args: ['-f', 'lavfi', '-i', source],
    source,
    stream: 'a:0',
    sampleRate,
    channels,
    kbps,
  };
}
