// The PostgreSQL schema, in versions applied in order at start. Several nodes starting at once
// apply them once: each takes the same transaction-level advisory lock first, and the ones that
// wait find them applied. Never edit a version that has shipped; add the next.
import { DatabaseError } from '../database.js';
import type { Postgres } from './connection.js';

/** The channels NOTIFYed on a change, with the row's key in JSON: how each node keeps its caches true. */
export const notifyChannels = { projects: 'cloudrec_projects', tasks: 'cloudrec_tasks', memberships: 'cloudrec_memberships', webhooks: 'cloudrec_webhooks' } as const;

const migrations = [
  // 1: settings the nodes share (meta), the fleet's rate limits (token buckets), projects, channel memberships (the sandbox's presence) and tasks, as in the embedded schema;
  // one recording task per app and channel is the database's own rule (a partial unique index), and
  // task ids come from an identity sequence (never reused, also after a rollback).
  `CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
   CREATE TABLE projects (
     app_id text NOT NULL, project_id text NOT NULL,
     key_salt bytea NOT NULL, key_hash bytea NOT NULL,
     recording_enabled boolean NOT NULL,
     storage text,
     PRIMARY KEY (app_id, project_id));
   CREATE TABLE memberships (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     app_id text NOT NULL, channel text NOT NULL, uid bigint NOT NULL,
     audio boolean NOT NULL, video boolean NOT NULL, dual_stream boolean NOT NULL, media_file text,
     joined_at bigint NOT NULL, left_at bigint);
   CREATE UNIQUE INDEX memberships_present ON memberships (app_id, channel, uid) WHERE left_at IS NULL;
   CREATE INDEX memberships_channel ON memberships (app_id, channel, joined_at);
   CREATE TABLE tasks (
     task_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     app_id text NOT NULL, project_id text NOT NULL, channel text NOT NULL,
     settings jsonb NOT NULL,
     state text NOT NULL,
     created_at bigint NOT NULL, ended_at bigint, end_reason text,
     failure_reason text,
     files jsonb NOT NULL DEFAULT '[]',
     progress jsonb);
   CREATE UNIQUE INDEX tasks_one_recording ON tasks (app_id, channel) WHERE state = 'recording';
   CREATE TABLE rate_buckets (
     key text PRIMARY KEY,
     tokens float8 NOT NULL, at float8 NOT NULL,
     asked integer NOT NULL, granted integer NOT NULL,
     cap float8 NOT NULL, per_ms float8 NOT NULL);
   CREATE INDEX tasks_state ON tasks (state, task_id);

   CREATE FUNCTION cloudrec_notify_project() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('${notifyChannels.projects}', json_build_array(NEW.app_id, NEW.project_id)::text);
     RETURN NULL;
   END $$;
   CREATE TRIGGER projects_changed AFTER INSERT OR UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION cloudrec_notify_project();

   CREATE FUNCTION cloudrec_notify_task() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('${notifyChannels.tasks}', json_build_object(
       'task_id', NEW.task_id, 'app_id', NEW.app_id, 'project_id', NEW.project_id, 'channel', NEW.channel,
       'state', NEW.state, 'settings', NEW.settings)::text);
     RETURN NULL;
   END $$;
   CREATE TRIGGER tasks_created AFTER INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION cloudrec_notify_task();
   CREATE TRIGGER tasks_state_changed AFTER UPDATE OF state ON tasks FOR EACH ROW
     WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION cloudrec_notify_task();

   CREATE FUNCTION cloudrec_notify_membership() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('${notifyChannels.memberships}', json_build_array(NEW.app_id, NEW.channel)::text);
     RETURN NULL;
   END $$;
   CREATE TRIGGER memberships_changed AFTER INSERT OR UPDATE ON memberships FOR EACH ROW EXECUTE FUNCTION cloudrec_notify_membership();`,
  // 2: a project's webhook (its URL and sealed secrets), as JSON.
  `ALTER TABLE projects ADD COLUMN webhook text;`,
  // 3: webhook events waiting to be sent, and those sent (with their attempts); a project's pending
  // ones read from a partial index, so a sender's claims grow neither with the events ever made nor
  // with another project's backlog (event ids are random and never looked up: no index). An insert NOTIFYs its project (once a transaction: PostgreSQL
  // folds the same payload).
  `CREATE TABLE webhook_events (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     event_id text NOT NULL,
     task_id bigint NOT NULL, app_id text NOT NULL, project_id text NOT NULL,
     type text NOT NULL, body text NOT NULL, created_at bigint NOT NULL,
     state text NOT NULL, next_at bigint, lease_until bigint NOT NULL DEFAULT 0,
     given_up_reason text, attempts jsonb NOT NULL DEFAULT '[]');
   CREATE INDEX webhook_events_task ON webhook_events (task_id, seq);
   CREATE INDEX webhook_events_due ON webhook_events (app_id, project_id, next_at) WHERE state = 'pending';
   CREATE FUNCTION cloudrec_notify_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('${notifyChannels.webhooks}', NEW.app_id || E'\\n' || NEW.project_id);
     RETURN NULL;
   END $$;
   CREATE TRIGGER webhook_events_added AFTER INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION cloudrec_notify_webhooks();`,
];

/** The schema version this code needs. */
export const schemaVersion = migrations.length;

/** Applies the versions the database lacks; returns those it applied (none when another node did). */
export async function migrate(db: Postgres): Promise<number[]> {
  return db.transaction(async (client) => {
    // Held until this transaction ends: a node starting at the same time waits here, then finds them applied.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('cloudrec schema migrations'))");
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new DatabaseError(`The database's schema is version ${current}, newer than this cloudrec's ${migrations.length}: run a newer cloudrec.`);
    }
    const applied: number[] = [];
    for (let version = current + 1; version <= migrations.length; version++) {
      await client.query(migrations[version - 1]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      applied.push(version);
    }
    return applied;
  });
}
