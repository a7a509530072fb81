// Where the server learns who is in a channel. The embedded default is the sandbox
// (sandbox-channels.ts); a real RTC backend would implement the same two calls.

/** A user in a channel and what it publishes. */
export interface ChannelMember {
  uid: number;
  audio: boolean;
  video: boolean;
  dualStream: boolean;
  mediaFile?: string;
  /** When the user joined, in ms since the epoch. */
  joinedAt: number;
}

/** One stretch of time a user was in a channel, in ms since the epoch (`to` undefined: still there). */
export interface MemberPresence {
  member: ChannelMember;
  from: number;
  to: number | undefined;
}

type MaybePromise<T> = T | Promise<T>;

export interface ChannelSource {
  /** The users in the channel now, first to join first: at once, as a start needs it. */
  members(appId: string, channel: string): ChannelMember[];
  /** Every stretch of time users were in the channel that overlaps [from, to], in join order. */
  presences(appId: string, channel: string, from: number, to: number): MaybePromise<MemberPresence[]>;
  /** When the channel last became empty (ms), or undefined while someone is in it. */
  emptySince(appId: string, channel: string): MaybePromise<number | undefined>;
  /** Calls `listener` after each join or leave, so a watcher looks at that channel alone, not at every channel. */
  watch?(listener: (appId: string, channel: string) => void): void;
}
