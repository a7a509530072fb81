// ffprobe on a file, plus what ffprobe does not say: the order of the MP4's top-level boxes.
import { readFileSync } from 'node:fs';
import { probeMedia, type Probe as MediaProbe } from '../../src/recording/probe.js';

export interface Probe extends MediaProbe {
  path: string;
  /** Top-level MP4 boxes in file order (ftyp, moov, mdat, moof...). */
  boxes: string[];
  /** Written as fragments (moof boxes), the form playable while it is written. */
  fragmented: boolean;
}

/** The top-level box types of an MP4 file. */
export function mp4Boxes(path: string): string[] {
  const bytes = readFileSync(path);
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    else if (size === 0) size = bytes.length - at;
    if (size < 8) break;
    boxes.push(type);
    at += size;
  }
  return boxes;
}

/** Whether the MP4's index (moov) comes before its media (mdat): playable before it is all downloaded. */
export const moovBeforeMdat = (path: string) => {
  const boxes = mp4Boxes(path);
  return boxes.includes('moov') && boxes.indexOf('moov') < boxes.indexOf('mdat');
};

export async function ffprobe(path: string): Promise<Probe> {
  const boxes = mp4Boxes(path);
  return { ...(await probeMedia(path)), path, boxes, fragmented: boxes.includes('moof') };
}
