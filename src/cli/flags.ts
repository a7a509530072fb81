// One flag style for every command: each flag is accepted as its name is written (the spec's field
// names, the server's setting names) and as a kebab-case alias; an unknown flag gets the nearest
// known one suggested.
import { parseArgs } from 'node:util';
import { CliError, exitCodes } from './exit-codes.js';

/** Where `start` and `status` send their requests unless `--url` says otherwise. */
export const defaultUrl = 'http://127.0.0.1:8787';

export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
}

/** `app_id` → `app-id`, `isAudioOnly` → `is-audio-only`, `dataDir` → `data-dir`. */
export const kebabCase = (name: string) =>
  name
    .replace(/_/g, '-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The known flag nearest to `given`, when one is near enough to be what was meant. */
export function nearestFlag(given: string, known: string[]): string | undefined {
  const folded = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const scored = known.map((name) => ({ name, score: folded(name) === folded(given) ? 0 : distance(given.toLowerCase(), name.toLowerCase()) }));
  const best = scored.sort((a, b) => a.score - b.score)[0];
  return best && best.score <= Math.max(2, Math.floor(given.length / 3)) ? best.name : undefined;
}

/**
 * Parses `args` against `flags` (keyed by the name as written). Values come back under those
 * names, whichever spelling was used; giving both spellings is a usage error.
 */
export function parseFlags(args: string[], flags: Record<string, FlagSpec>, command: string, allowPositionals = false) {
  const spellings = new Map<string, string>();
  for (const name of Object.keys(flags)) {
    spellings.set(name, name);
    spellings.set(kebabCase(name), name);
  }
  const options = Object.fromEntries([...spellings].map(([spelling, name]) => [spelling, { type: flags[name]!.type }]));
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec((error as Error).message);
    if (unknown) {
      const near = nearestFlag(unknown[2]!, [...spellings.keys()]);
      throw new CliError(
        `unknown option ${unknown[1]}${unknown[2]}.${near ? ` Did you mean --${near}?` : ''} See \`cloudrec ${command} --help\`.`,
        exitCodes.usage,
      );
    }
    // A value that starts with a dash reads as an option to Node; say how to pass it instead.
    const ambiguous = /Option '(-{1,2}[^' ]+)[^']*' argument is ambiguous/.exec((error as Error).message);
    if (ambiguous) {
      throw new CliError(`${ambiguous[1]} has a value starting with "-": write it as ${ambiguous[1]}=<value>.`, exitCodes.usage);
    }
    throw new CliError((error as Error).message.split('\n')[0]!, exitCodes.usage);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [spelling, value] of Object.entries(parsed.values)) {
    const name = spellings.get(spelling)!;
    if (values[name] !== undefined && values[name] !== value) {
      throw new CliError(`--${name} and --${kebabCase(name)} are the same option, given two values.`, exitCodes.usage);
    }
    values[name] = value as string | boolean;
  }
  for (const [name, spec] of Object.entries(flags)) if (values[name] === undefined && spec.default !== undefined) values[name] = spec.default;
  return { values, positionals: parsed.positionals };
}

/** `--url`: an http(s) address, or a usage error saying what one looks like. */
export function baseUrlFlag(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliError(`--url must be an http:// or https:// address such as http://127.0.0.1:8787 (got "${value}").`, exitCodes.usage);
  }
  return value.replace(/\/+$/, '');
}
