// Projects in PostgreSQL, shared by every node. Each node keeps all of them in memory (the same
// cache as the embedded store: a start reads no row), read at start and again after its listening
// connection was lost; a project written through any node NOTIFYs the others, which read its row
// again, so a changed sign_key is refused everywhere within milliseconds of its COMMIT.
import { randomBytes } from 'node:crypto';
import { createProjectCache, type Project, type ProjectRow, type ProjectSettings } from '../project-store.js';
import { createSecretBox, type SecretBox } from '../secret-box.js';
import type { Postgres } from './connection.js';
import { notifyChannels } from './migrations.js';

export function createPgProjectStore(db: Postgres, box: SecretBox = createSecretBox(randomBytes(32))) {
  const cache = createProjectCache(box);

  const readOne = async (appId: string, projectId: string) => {
    const { rows } = await db.query<ProjectRow>('SELECT * FROM projects WHERE app_id = $1 AND project_id = $2', [appId, projectId]);
    if (rows[0]) cache.set(rows[0]);
  };
  async function reload() {
    const { rows } = await db.query<ProjectRow>('SELECT * FROM projects');
    cache.clear();
    for (const row of rows) cache.set(row);
  }

  const write = async (row: ProjectRow): Promise<Project> => {
    await db.query(
      `INSERT INTO projects (app_id, project_id, key_salt, key_hash, recording_enabled, storage, webhook) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (app_id, project_id) DO UPDATE SET key_salt = $3, key_hash = $4, recording_enabled = $5, storage = $6, webhook = $7`,
      [row.app_id, row.project_id, row.key_salt, row.key_hash, row.recording_enabled, row.storage, row.webhook],
    );
    return cache.set(row);
  };

  return {
    /** Reads every project and starts following the changes of every node. */
    open: () =>
      db.listen(
        notifyChannels.projects,
        (payload) => {
          const [appId, projectId] = JSON.parse(payload) as [string, string];
          // A failed read leaves the old row until the next change or reconnection reads it.
          readOne(appId, projectId).catch(() => {});
        },
        reload,
      ),
    get: cache.get,
    authenticate: cache.authenticate,
    /** Creates or replaces a project. */
    put: (appId: string, projectId: string, settings: ProjectSettings) => write(cache.newRow(appId, projectId, settings)),
    /** Changes the settings given; undefined when there is no such project. */
    async patch(appId: string, projectId: string, changes: Partial<ProjectSettings>): Promise<Project | undefined> {
      return db.transaction(async (client) => {
        // Read under a row lock: two nodes changing one project at once do not undo each other's change.
        const { rows } = await client.query<ProjectRow>('SELECT * FROM projects WHERE app_id = $1 AND project_id = $2 FOR UPDATE', [appId, projectId]);
        if (!rows[0]) return undefined;
        const row = cache.changedRow(rows[0], changes);
        await client.query('UPDATE projects SET key_salt = $3, key_hash = $4, recording_enabled = $5, storage = $6, webhook = $7 WHERE app_id = $1 AND project_id = $2', [
          row.app_id, row.project_id, row.key_salt, row.key_hash, row.recording_enabled, row.storage, row.webhook,
        ]);
        return row;
      }).then((row) => row && cache.set(row));
    },
  };
}

export type PgProjectStore = ReturnType<typeof createPgProjectStore>;
