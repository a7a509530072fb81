// Whether a failure is the disk (or the database file) being full: then the work waits and is
// tried again, instead of failing for good.
import { sqliteCode } from './database.js';

const codes = new Set(['ENOSPC', 'EDQUOT']);

/** True for "no space left": an errno, SQLite's SQLITE_FULL, or ffmpeg's words for it. */
export function isOutOfSpace(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if ((typeof code === 'string' && codes.has(code)) || sqliteCode(error) === 'SQLITE_FULL') return true;
  return typeof message === 'string' && /No space left on device|database or disk is full|Disk quota exceeded/i.test(message);
}
