// ffprobe's view of a media file: its streams and duration.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbeStream {
  index: number;
  codec_type: 'audio' | 'video' | string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
}

export interface Probe {
  streams: ProbeStream[];
  /** Seconds. */
  duration: number;
  formatName: string;
  bitRate?: number;
}

/** The streams and duration of the file at `path`. */
export async function probeMedia(path: string, ffprobePath = 'ffprobe'): Promise<Probe> {
  // Local files only: a name that looks like a URL or a protocol is not followed.
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-protocol_whitelist', 'file', '-print_format', 'json', '-show_streams', '-show_format', `file:${path}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const json = JSON.parse(stdout) as { streams?: ProbeStream[]; format?: { duration?: string; format_name?: string; bit_rate?: string } };
  return {
    streams: json.streams ?? [],
    duration: Number(json.format?.duration ?? 0),
    formatName: json.format?.format_name ?? '',
    ...(json.format?.bit_rate ? { bitRate: Number(json.format.bit_rate) } : {}),
  };
}
