// Secrets at rest (the storage secret_access_key): sealed with AES-256-GCM under the server's
// secret key before they reach SQLite. The key comes from CLOUDREC_SECRET_KEY (or `secretKey` in
// the config file), 32 bytes in base64; without one, the server makes one and keeps it in
// <dataDir>/secret.key, readable by its owner only.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const prefix = 'sealed:v1:';

export interface SecretBox {
  seal(plain: string): string;
  /** The plain text of a sealed value; a value stored before sealing existed comes back as it is. */
  open(stored: string): string;
  isSealed(stored: string): boolean;
}

export class SecretKeyError extends Error {}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new SecretKeyError('the secret key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return prefix + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
    },
    open(stored) {
      if (!stored.startsWith(prefix)) return stored;
      const raw = Buffer.from(stored.slice(prefix.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretKeyError('a stored secret does not open with this secret key (was CLOUDREC_SECRET_KEY or secret.key changed?)');
      }
    },
    isSealed: (stored) => stored.startsWith(prefix),
  };
}

/** The key given (base64 of 32 bytes), or the one kept in `<dataDir>/secret.key`, made on first use. */
export function loadSecretKey(given: string, dataDir: string): { key: Buffer; source: string } {
  if (given !== '') {
    const key = Buffer.from(given, 'base64');
    if (key.length !== 32) throw new SecretKeyError('CLOUDREC_SECRET_KEY must be 32 bytes in base64 (44 characters); generate one with `openssl rand -base64 32`');
    return { key, source: 'CLOUDREC_SECRET_KEY' };
  }
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) createKeyFile(file);
  // Only its owner may read it, whatever a copy or an umask did to it.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new SecretKeyError(`${file} does not hold a 32-byte key in base64; restore it, or remove it only if no project has storage settings yet`);
  return { key, source: file };
}

/**
 * Writes a new key to `file`, whole or not at all: written aside, then linked into place, which
 * fails if another process got there first (its key is then the one read).
 */
function createKeyFile(file: string) {
  mkdirSync(dirname(file), { recursive: true });
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, file);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}
