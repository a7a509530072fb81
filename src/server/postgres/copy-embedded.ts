// The copy behind `cloudrec migrate`: an embedded deployment's SQLite database into an empty
// PostgreSQL database of the fleet's schema, in one transaction (all of it or nothing).
import { DatabaseError, statement, type Db } from '../database.js';
import type { SecretBox } from '../secret-box.js';
import type { Postgres } from './connection.js';

export interface Copied {
  projects: number;
  secrets: number;
  tasks: number;
  recording: number;
  lastTaskId: number;
  memberships: number;
  /** Webhook events, and those of them still to be delivered. */
  events: number;
  pendingEvents: number;
  demo: boolean;
}

interface ProjectRow { app_id: string; project_id: string; key_salt: Uint8Array; key_hash: Uint8Array; recording_enabled: number; storage: string | null; webhook: string | null }
interface TaskRow { task_id: number; app_id: string; project_id: string; channel: string; settings: string; state: string; created_at: number; ended_at: number | null; end_reason: string | null; failure_reason: string | null; files: string; progress: string | null }
interface EventRow { event_id: string; task_id: number; app_id: string; project_id: string; type: string; body: string; created_at: number; state: string; next_at: number | null; given_up_reason: string | null; attempts: string }
interface MembershipRow { app_id: string; channel: string; uid: number; audio: number; video: number; dual_stream: number; media_file: string | null; joined_at: number; left_at: number | null }

const keyCheck = 'secret_key_check';

/** Copies `db` into `pg`; `from` opens the folder's secrets, `to` seals them for the fleet. */
export async function copyEmbeddedDeployment(db: Db, pg: Postgres, from: SecretBox, to: SecretBox): Promise<Copied> {
  const projects = statement<[], ProjectRow>(db, 'SELECT * FROM projects').all();
  const tasks = statement<[], TaskRow>(db, 'SELECT * FROM tasks ORDER BY task_id').all();
  const memberships = statement<[], MembershipRow>(db, 'SELECT * FROM memberships ORDER BY join_seq').all();
  const events = statement<[], EventRow>(db, 'SELECT * FROM webhook_events ORDER BY seq').all();
  const demoKey = statement<[], { value: string }>(db, `SELECT value FROM meta WHERE key = 'demo_sign_key'`).get()?.value;
  let secrets = 0;
  const storage = projects.map((p) => {
    if (!p.storage) return null;
    const settings = JSON.parse(p.storage) as { secret_access_key: string };
    secrets += 1;
    // Opened with the folder's key (a secret stored before sealing comes back as it is), sealed with the fleet's.
    return JSON.stringify({ ...settings, secret_access_key: to.seal(from.open(settings.secret_access_key)) });
  });
  const webhooks = projects.map((p) => {
    if (!p.webhook) return null;
    const webhook = JSON.parse(p.webhook) as { secret: string; previous_secret: string | null };
    const reseal = (sealed: string) => to.seal(from.open(sealed));
    return JSON.stringify({ ...webhook, secret: reseal(webhook.secret), previous_secret: webhook.previous_secret && reseal(webhook.previous_secret) });
  });
  return pg.transaction(async (client) => {
    const { rows } = await client.query<{ projects: number; tasks: number }>('SELECT (SELECT count(*) FROM projects)::int AS projects, (SELECT count(*) FROM tasks)::int AS tasks');
    const held = rows[0]!;
    if (held.projects || held.tasks) {
      const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
      throw new DatabaseError(`The database already holds ${count(held.projects, 'project')} and ${count(held.tasks, 'task')}: migrate copies into an empty one only, so nothing is mixed or copied twice.`);
    }
    const check = (await client.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [keyCheck])).rows[0]?.value;
    if (check) to.open(check);
    else await client.query('INSERT INTO meta (key, value) VALUES ($1, $2)', [keyCheck, to.seal(keyCheck)]);
    await client.query(
      `INSERT INTO projects (app_id, project_id, key_salt, key_hash, recording_enabled, storage, webhook)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::boolean[], $6::text[], $7::text[])`,
      [projects.map((p) => p.app_id), projects.map((p) => p.project_id), projects.map((p) => Buffer.from(p.key_salt)), projects.map((p) => Buffer.from(p.key_hash)), projects.map((p) => p.recording_enabled === 1), storage, webhooks],
    );
    const column = <K extends keyof TaskRow>(key: K) => tasks.map((t) => t[key]);
    await client.query(
      `INSERT INTO tasks (task_id, app_id, project_id, channel, settings, state, created_at, ended_at, end_reason, failure_reason, files, progress)
       OVERRIDING SYSTEM VALUE
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::jsonb[], $12::jsonb[])`,
      ['task_id', 'app_id', 'project_id', 'channel', 'settings', 'state', 'created_at', 'ended_at', 'end_reason', 'failure_reason', 'files', 'progress'].map((k) => column(k as keyof TaskRow)),
    );
    const lastTaskId = tasks.at(-1)?.task_id ?? 0;
    // New ids go on after the last one copied: never one the embedded server gave out.
    if (lastTaskId) await client.query(`SELECT setval(pg_get_serial_sequence('tasks', 'task_id'), $1)`, [lastTaskId]);
    const member = <K extends keyof MembershipRow>(key: K) => memberships.map((m) => m[key]);
    await client.query(
      `INSERT INTO memberships (app_id, channel, uid, audio, video, dual_stream, media_file, joined_at, left_at)
       SELECT a, c, u, au, v, d, f, j, l
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::boolean[], $6::boolean[], $7::text[], $8::bigint[], $9::bigint[]) WITH ORDINALITY AS m(a, c, u, au, v, d, f, j, l, n)
        ORDER BY n`,
      [member('app_id'), member('channel'), member('uid'), member('audio').map(Boolean), member('video').map(Boolean), member('dual_stream').map(Boolean), member('media_file'), member('joined_at'), member('left_at')],
    );
    // In their order (a task's events are sent in it), the pending ones sent by the fleet from now on.
    const event = <K extends keyof EventRow>(key: K) => events.map((e) => e[key]);
    await client.query(
      `INSERT INTO webhook_events (event_id, task_id, app_id, project_id, type, body, created_at, state, next_at, given_up_reason, attempts)
       SELECT i, t, a, p, ty, b, c, s, nx, g, at
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], $10::text[], $11::jsonb[]) WITH ORDINALITY AS e(i, t, a, p, ty, b, c, s, nx, g, at, n)
        ORDER BY n`,
      (['event_id', 'task_id', 'app_id', 'project_id', 'type', 'body', 'created_at', 'state', 'next_at', 'given_up_reason', 'attempts'] as const).map((k) => event(k)),
    );
    if (demoKey) await client.query(`INSERT INTO meta (key, value) VALUES ('demo_sign_key', $1) ON CONFLICT (key) DO NOTHING`, [demoKey]);
    return {
      projects: projects.length,
      secrets,
      tasks: tasks.length,
      recording: tasks.filter((t) => t.state === 'recording').length,
      lastTaskId,
      memberships: memberships.length,
      events: events.length,
      pendingEvents: events.filter((e) => e.state === 'pending').length,
      demo: Boolean(demoKey),
    };
  });
}
