// `cloudrec migrate --from <data folder> --database-url postgres://…`: moves an embedded deployment
// into a fleet's PostgreSQL. Projects (their storage secrets opened with the folder's key and sealed
// again with the fleet's), tasks with their ids (the fleet's ids go on after the last), channel
// presence and the demo key are copied in one transaction; a database that already holds projects
// or tasks is refused, so nothing is mixed or copied twice.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, exitCodes } from './exit-codes.js';
import { parseFlags } from './flags.js';

export const migrateHelp = () => `Usage: cloudrec migrate --from <data folder> --database-url <postgres://…>

Copies an embedded deployment (the SQLite database in a data folder) into a PostgreSQL database for
a fleet: projects with their storage secrets, tasks with their ids (new ids go on after the last),
who is and was in each channel, and the demo project's key. The database gets the fleet's schema
first; one that already holds projects or tasks is refused. Stop the server of that folder first.

Options:
  --from <folder>          the data folder (CLOUDREC_DATA_DIR of the embedded server)
  --database-url <url>     the fleet's database (default $CLOUDREC_DATABASE_URL)
  --secret-key <base64>    the key the folder's secrets are sealed with, if its server was given
                           one (default: the folder's secret.key)
  --fleet-secret-key <b64> the key the fleet's nodes seal with (default $CLOUDREC_SECRET_KEY, else
                           the folder's key: give the nodes that one)

Exit codes: 0 copied, 2 bad command line or a database that cannot take the copy.`;

const flags = {
  from: { type: 'string' },
  'database-url': { type: 'string' },
  'secret-key': { type: 'string' },
  'fleet-secret-key': { type: 'string' },
} as const;

export async function migrateCommand(args: string[], print: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseFlags(args, flags, 'migrate');
  const usage = (message: string) => new CliError(message, exitCodes.usage);
  if (typeof values.from !== 'string') throw usage('--from is required: the data folder of the embedded server.');
  const url = typeof values['database-url'] === 'string' ? values['database-url'] : env.CLOUDREC_DATABASE_URL;
  if (!url) throw usage('--database-url (or CLOUDREC_DATABASE_URL) is required: the fleet\'s PostgreSQL database.');
  const folder = resolve(values.from);
  const file = join(folder, 'cloudrec.db');
  if (!existsSync(file)) throw usage(`${file} does not exist: --from names the data folder of an embedded server.`);

  const { openDatabase, DatabaseError } = await import('../server/database.js');
  const { createSecretBox, loadSecretKey, SecretKeyError } = await import('../server/secret-box.js');
  const { openPostgres } = await import('../server/postgres/connection.js');
  const { migrate } = await import('../server/postgres/migrations.js');
  const { copyEmbeddedDeployment } = await import('../server/postgres/copy-embedded.js');
  let db;
  try {
    db = openDatabase(file, { usedBefore: true });
  } catch (error) {
    if (error instanceof DatabaseError) throw usage(error.message);
    throw error;
  }
  const pg = openPostgres(url, { applicationName: 'cloudrec migrate' });
  try {
    const folderKey = loadSecretKey(typeof values['secret-key'] === 'string' ? values['secret-key'] : '', folder).key;
    const fleetKey = typeof values['fleet-secret-key'] === 'string' ? values['fleet-secret-key'] : env.CLOUDREC_SECRET_KEY;
    const from = createSecretBox(folderKey);
    const to = fleetKey ? createSecretBox(loadSecretKey(fleetKey, folder).key) : from;
    await migrate(pg);
    const copied = await copyEmbeddedDeployment(db, pg, from, to);
    print(
      `Copied from ${folder}: ${copied.projects} project${copied.projects === 1 ? '' : 's'} (${copied.secrets} storage secret${copied.secrets === 1 ? '' : 's'} sealed again with the fleet's key), ` +
        `${copied.tasks} task${copied.tasks === 1 ? '' : 's'} (${copied.recording} recording; new ids go on after ${copied.lastTaskId}), ` +
        `${copied.memberships} channel membership${copied.memberships === 1 ? '' : 's'}, ` +
        `${copied.events} webhook event${copied.events === 1 ? '' : 's'} (${copied.pendingEvents} still to deliver)${copied.demo ? ', the demo key' : ''}.`,
    );
    if (!fleetKey) print(`The fleet's nodes must seal with the folder's key: give them CLOUDREC_SECRET_KEY with the contents of ${join(folder, 'secret.key')}.`);
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof SecretKeyError || error instanceof DatabaseError) throw usage(error.message);
    if (typeof (error as { severity?: unknown }).severity === 'string' || (error as { code?: string }).code === 'ECONNREFUSED') {
      throw usage(`the database refused the copy: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    db.close();
    await pg.close();
  }
}
