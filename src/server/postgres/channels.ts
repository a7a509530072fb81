// The sandbox's channels in PostgreSQL, shared by every node: who is in a channel now, and who
// was in it when (a recording's timeline). Each node keeps who is in each channel now in memory
// (a start checks that a channel has a user without reading a row), read at start and again for
// a channel when any node NOTIFYs a join or leave there; watchers (a worker's runner) are told.
import type { ChannelMember, ChannelSource, MemberPresence } from '../channel-source.js';
import { PairMap } from '../pair-map.js';
import type { MemberSettings } from '../sandbox-channels.js';
import type { Postgres } from './connection.js';
import { notifyChannels } from './migrations.js';

interface MembershipRow {
  app_id: string;
  channel: string;
  uid: number;
  audio: boolean;
  video: boolean;
  dual_stream: boolean;
  media_file: string | null;
  joined_at: number;
  left_at: number | null;
}

const toMember = (row: MembershipRow): ChannelMember => ({
  uid: row.uid,
  audio: row.audio,
  video: row.video,
  dualStream: row.dual_stream,
  ...(row.media_file ? { mediaFile: row.media_file } : {}),
  joinedAt: row.joined_at,
});

export function createPgChannels(db: Postgres, now: () => number = Date.now) {
  /** The members of every channel with someone in it, in join order. */
  const present = new PairMap<ChannelMember[]>();
  const watchers: ((appId: string, channel: string) => void)[] = [];

  const setChannel = (appId: string, channel: string, members: ChannelMember[]) => {
    if (members.length) present.set(appId, channel, members);
    else present.delete(appId, channel);
  };
  const changed = (appId: string, channel: string) => {
    for (const watcher of watchers) watcher(appId, channel);
  };
  async function readChannel(appId: string, channel: string) {
    const { rows } = await db.query<MembershipRow>('SELECT * FROM memberships WHERE app_id = $1 AND channel = $2 AND left_at IS NULL ORDER BY id', [appId, channel]);
    setChannel(appId, channel, rows.map(toMember));
    changed(appId, channel);
  }
  async function reload() {
    const { rows } = await db.query<MembershipRow>('SELECT * FROM memberships WHERE left_at IS NULL ORDER BY id');
    const before = [...present.entries()];
    present.clear();
    for (const row of rows) {
      const members = present.get(row.app_id, row.channel);
      if (members) members.push(toMember(row));
      else present.set(row.app_id, row.channel, [toMember(row)]);
    }
    // Joins and leaves missed while the connection was down: every channel that had or has someone is looked at again.
    for (const [appId, channel] of [...before, ...present.entries()]) changed(appId, channel);
  }

  const source: ChannelSource = {
    members: (appId, channel) => present.get(appId, channel) ?? [],
    async presences(appId, channel, from, to): Promise<MemberPresence[]> {
      const { rows } = await db.query<MembershipRow>(
        'SELECT * FROM memberships WHERE app_id = $1 AND channel = $2 AND joined_at <= $3 AND (left_at IS NULL OR left_at >= $4) ORDER BY id',
        [appId, channel, to, from],
      );
      return rows.map((row) => ({ member: toMember(row), from: row.joined_at, to: row.left_at ?? undefined }));
    },
    async emptySince(appId, channel) {
      const { rows } = await db.query<{ present: number; left_at: number | null }>(
        'SELECT count(*) FILTER (WHERE left_at IS NULL)::int AS present, max(left_at) AS left_at FROM memberships WHERE app_id = $1 AND channel = $2',
        [appId, channel],
      );
      return rows[0]!.present > 0 ? undefined : (rows[0]!.left_at ?? undefined);
    },
    watch: (listener) => void watchers.push(listener),
  };

  return {
    source,
    /** Reads who is in each channel and starts following every node's joins and leaves. */
    open: () =>
      db.listen(
        notifyChannels.memberships,
        (payload) => {
          const [appId, channel] = JSON.parse(payload) as [string, string];
          // A failed read is made good by the next change there, or the next reconnection's reload.
          readChannel(appId, channel).catch(() => {});
        },
        reload,
      ),
    /** The user joins (or, already there, keeps its place and takes the new settings). */
    async join(appId: string, channel: string, uid: number, settings: MemberSettings): Promise<ChannelMember> {
      const { rows } = await db.query<MembershipRow>(
        `INSERT INTO memberships (app_id, channel, uid, audio, video, dual_stream, media_file, joined_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (app_id, channel, uid) WHERE left_at IS NULL
           DO UPDATE SET audio = EXCLUDED.audio, video = EXCLUDED.video, dual_stream = EXCLUDED.dual_stream, media_file = EXCLUDED.media_file
         RETURNING *`,
        [appId, channel, uid, settings.audio, settings.video, settings.dual_stream, settings.media_file ?? null, now()],
      );
      await readChannel(appId, channel);
      return toMember(rows[0]!);
    },
    /** The user leaves; false when it was not in the channel. */
    async leave(appId: string, channel: string, uid: number): Promise<boolean> {
      const { rowCount } = await db.query('UPDATE memberships SET left_at = $4 WHERE app_id = $1 AND channel = $2 AND uid = $3 AND left_at IS NULL', [
        appId, channel, uid, now(),
      ]);
      if (!rowCount) return false;
      await readChannel(appId, channel);
      return true;
    },
  };
}

export type PgChannels = ReturnType<typeof createPgChannels>;
