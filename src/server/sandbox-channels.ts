// The sandbox channel source: simulated users joining and leaving channels, kept in SQLite so
// a restart keeps both who is in a channel now and who was in it when (the recordings' timeline).
import type { ChannelMember, ChannelSource, MemberPresence } from './channel-source.js';
import { statement, transaction, type Db, type Named } from './database.js';

interface MembershipRow {
  id: number;
  uid: number;
  audio: number;
  video: number;
  dual_stream: number;
  media_file: string | null;
  join_seq: number;
  joined_at: number;
  left_at: number | null;
}

export interface MemberSettings {
  audio: boolean;
  video: boolean;
  dual_stream: boolean;
  media_file?: string;
}

const toMember = (row: MembershipRow): ChannelMember => ({
  uid: row.uid,
  audio: row.audio === 1,
  video: row.video === 1,
  dualStream: row.dual_stream === 1,
  ...(row.media_file ? { mediaFile: row.media_file } : {}),
  joinedAt: row.joined_at,
});

export function createSandboxChannels(db: Db, now: () => number = Date.now) {
  const current = statement<[string, string], MembershipRow>(
    db,
    'SELECT * FROM memberships WHERE app_id = ? AND channel = ? AND left_at IS NULL ORDER BY join_seq',
  );
  const currentOne = statement<[string, string, number], MembershipRow>(
    db,
    'SELECT * FROM memberships WHERE app_id = ? AND channel = ? AND uid = ? AND left_at IS NULL',
  );
  const overlapping = statement<[string, string, number, number], MembershipRow>(
    db,
    `SELECT * FROM memberships WHERE app_id = ? AND channel = ? AND joined_at <= ?
       AND (left_at IS NULL OR left_at >= ?) ORDER BY join_seq`,
  );
  const lastLeft = statement<[string, string], { left_at: number | null }>(
    db,
    'SELECT MAX(left_at) AS left_at FROM memberships WHERE app_id = ? AND channel = ?',
  );
  const nextSeq = statement<[], { seq: number }>(db, 'SELECT COALESCE(MAX(join_seq), 0) + 1 AS seq FROM memberships');
  const insert = statement<[Named]>(
    db,
    `INSERT INTO memberships (app_id, channel, uid, audio, video, dual_stream, media_file, join_seq, joined_at)
     VALUES (@app_id, @channel, @uid, @audio, @video, @dual_stream, @media_file, @join_seq, @joined_at)`,
  );
  const update = statement<[Named]>(
    db,
    'UPDATE memberships SET audio = @audio, video = @video, dual_stream = @dual_stream, media_file = @media_file WHERE id = @id',
  );
  const leave = statement<[number, number]>(db, 'UPDATE memberships SET left_at = ? WHERE id = ?');

  const joinTransaction = (appId: string, channel: string, uid: number, settings: MemberSettings): ChannelMember =>
    transaction(db, () => {
      const columns = {
        audio: settings.audio ? 1 : 0,
        video: settings.video ? 1 : 0,
        dual_stream: settings.dual_stream ? 1 : 0,
        media_file: settings.media_file ?? null,
      };
      const existing = currentOne.get(appId, channel, uid);
      if (existing) update.run({ ...columns, id: existing.id });
      else insert.run({ ...columns, app_id: appId, channel, uid, join_seq: nextSeq.get()!.seq, joined_at: now() });
      return toMember(currentOne.get(appId, channel, uid)!);
    });

  const watchers: ((appId: string, channel: string) => void)[] = [];
  const changed = (appId: string, channel: string) => {
    for (const watcher of watchers) watcher(appId, channel);
  };

  const source: ChannelSource = {
    members: (appId, channel) => current.all(appId, channel).map(toMember),
    presences: (appId, channel, from, to): MemberPresence[] =>
      overlapping.all(appId, channel, to, from).map((row) => ({
        member: toMember(row),
        from: row.joined_at,
        to: row.left_at ?? undefined,
      })),
    emptySince(appId, channel) {
      if (current.all(appId, channel).length > 0) return undefined;
      return lastLeft.get(appId, channel)?.left_at ?? undefined;
    },
    watch: (listener) => void watchers.push(listener),
  };

  return {
    source,
    /** The user joins (or, already there, keeps its place and takes the new settings). */
    join(appId: string, channel: string, uid: number, settings: MemberSettings): ChannelMember {
      const member = joinTransaction(appId, channel, uid, settings);
      changed(appId, channel);
      return member;
    },
    /** The user leaves; false when it was not in the channel. */
    leave(appId: string, channel: string, uid: number): boolean {
      const existing = currentOne.get(appId, channel, uid);
      if (!existing) return false;
      leave.run(now(), existing.id);
      changed(appId, channel);
      return true;
    },
  };
}

export type SandboxChannels = ReturnType<typeof createSandboxChannels>;
