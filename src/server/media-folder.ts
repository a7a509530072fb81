// The sandbox's media files: a user may publish a file of the configured media folder, named
// relative to it, and nothing else. The name may not climb out (`..`), and the file it names, once
// symlinks are followed, must still be a regular file inside the folder.
import { realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A media_file that breaks the rule; its message names the rule, never the file's contents. */
export class MediaFileError extends Error {}

/** The real path of media file `name` in `mediaDir`, or a MediaFileError saying which rule it breaks. */
export function resolveMediaFile(mediaDir: string, name: string): string {
  if (name.split(/[\\/]/).some((part) => part === '..' || part === '.') || name.startsWith('/') || name.includes('\0')) {
    throw new MediaFileError(`media_file: must be a name inside the media folder, without "." or ".." parts or a leading "/" (got ${JSON.stringify(name)}).`);
  }
  let folder: string;
  let file: string;
  try {
    folder = realpathSync(mediaDir);
    file = realpathSync(join(folder, name));
  } catch {
    throw new MediaFileError(`media_file: there is no file ${JSON.stringify(name)} in the media folder.`);
  }
  const inside = relative(folder, file);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..') {
    throw new MediaFileError(`media_file: ${JSON.stringify(name)} leads out of the media folder (a symbolic link); only files inside it may be published.`);
  }
  if (!statSync(file).isFile()) throw new MediaFileError(`media_file: ${JSON.stringify(name)} is not a regular file.`);
  return file;
}
