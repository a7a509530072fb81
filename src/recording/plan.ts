// What a recording is made from: the task's settings and who was in the channel when.
import type { SchemaRecordingSettings } from '../../generated/sandbox-types.js';

/** The request's recording fields with every default applied. */
export type RecordingSettings = SchemaRecordingSettings;

/** A user in the channel and what it publishes. */
export interface Publisher {
  uid: number;
  audio: boolean;
  video: boolean;
  dual_stream: boolean;
  /** A media file played (looped) instead of the synthetic source. */
  media_file?: string;
}

/** One presence of a user, in seconds from the recording's start. Join order: by `from`, then array order. */
export interface PresenceSpan {
  publisher: Publisher;
  from: number;
  to: number;
}

export interface RecordingPlan {
  settings: RecordingSettings;
  /** Seconds from the recording's start to its end. */
  durationSec: number;
  spans: PresenceSpan[];
}

/** A file the recording made. */
export interface MadeFile {
  name: string;
  kind: 'audio' | 'video' | 'mixed';
  uid?: number;
  path: string;
  bytes: number;
  duration_sec: number;
}

/** How far making one file has got, in seconds of media written. */
export interface RenderProgress {
  step: string;
  done: number;
  total: number;
}
