// Object keys of a task's files: `<prefix>/<project_id>/<channel>/<task_id>/<file>`. Every part
// but the prefix is percent-encoded as a whole, so a channel named `../x` or `a/b` stays one
// segment and no key can step outside its task's folder.

/** The parts a key is made of. */
export interface ObjectKeyParts {
  /** Already restricted by the spec to `/`-separated safe segments, or empty. */
  prefix: string;
  projectId: string;
  channel: string;
  taskId: number;
  fileName: string;
}

/** Percent-encoded (`/`, `%`, spaces, non-ASCII...); a part that is `.` or `..` gets its dots encoded too. */
function encodePart(part: string): string {
  if (part === '') throw new RangeError('an object key part cannot be empty');
  const encoded = encodeURIComponent(part);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

/** The object key of a task's file; safe for any channel name. */
export function objectKey({ prefix, projectId, channel, taskId, fileName }: ObjectKeyParts): string {
  if (!Number.isSafeInteger(taskId) || taskId < 1) throw new RangeError(`task id must be a positive integer, not ${taskId}`);
  const parts = [encodePart(projectId), encodePart(channel), String(taskId), encodePart(fileName)];
  return (prefix ? [prefix, ...parts] : parts).join('/');
}

/** The parts of a key made by {@link objectKey} (its prefix as one string). */
export function parseObjectKey(key: string): ObjectKeyParts {
  const segments = key.split('/');
  if (segments.length < 4) throw new Error(`not an object key of a task: ${key}`);
  const [projectId, channel, taskId, fileName] = segments.slice(-4).map(decodeURIComponent) as [string, string, string, string];
  return { prefix: segments.slice(0, -4).join('/'), projectId, channel, taskId: Number(taskId), fileName };
}
