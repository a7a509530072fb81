// `cloudrec`: the command line of the toolkit. Subcommands wrap what users do: run the reference
// server or the mock, build the docs, start a recording, follow a task.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pathToFileURL } from 'node:url';
import { defaultConfig, settingVariables, type Config } from '../server/config.js';
import { runServer } from '../server/main.js';
import { CliError, exitCodeHelp, exitCodes } from './exit-codes.js';
import { startCommand, startHelp } from './start-command.js';
import { statusCommand, statusHelp } from './status-command.js';

const projectRoot = resolve(import.meta.dirname, '../..');
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const serveHelp = () => `Usage: cloudrec serve [options]

Runs the reference server (as \`npm start\` does, without building the docs). Each option sets
the server setting of the same name; the environment variable and config file work too.

Options:
${(Object.keys(defaultConfig) as (keyof Config)[]).map((key) => `  --${kebab(key)} <value>  ${settingVariables[key]}, default ${JSON.stringify(defaultConfig[key])}`).join('\n')}`;

const mockHelp = () => `Usage: cloudrec mock [--host 127.0.0.1] [--port 4010]

Serves the spec with the Prism mock: requests are checked against the spec, answers come from
its examples. Ask for a documented failure with a header, e.g. \`Prefer: code=409, example=channel_empty\`.`;

const docsHelp = () => `Usage: cloudrec docs [--out docs] [--open]

Builds the API reference (English and 中文) and the client reference, and prints where they are.
--open opens the English page in the desktop's browser (xdg-open), when there is one.`;

const mainHelp = () => `cloudrec: the toolkit of the cloud-recording API (POST /v1/cloudRecord)

Usage: cloudrec <command> [options]    (cloudrec <command> --help for its options)

Commands:
  serve    run the reference server (127.0.0.1:8787, demo project on first run)
  mock     run the Prism mock of the spec (127.0.0.1:4010)
  docs     build the API and client docs, and say where they are
  start    start a recording: POST /v1/cloudRecord, flags named after the request's fields
  status   a task's state and files; --follow shows progress until it ends
  help     this text

${exitCodeHelp}`;

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new CliError((error as Error).message, exitCodes.usage);
  }
}

async function serve(args: string[]): Promise<number> {
  const keys = Object.keys(defaultConfig) as (keyof Config)[];
  const values = parse(args, Object.fromEntries(keys.map((key) => [kebab(key), { type: 'string' as const }])));
  const env = { ...process.env };
  for (const key of keys) {
    const value = values[kebab(key)];
    if (typeof value === 'string') env[settingVariables[key]] = value;
  }
  await runServer(env);
  // runServer sets exitCode 2 on bad configuration; otherwise the server runs until a signal.
  return process.exitCode === undefined ? exitCodes.ok : Number(process.exitCode);
}

function mock(args: string[]): Promise<number> {
  const values = parse(args, { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '4010' } });
  const url = `http://${String(values.host)}:${String(values.port)}`;
  console.log(`Prism mock of the spec on ${url}. Try:
  cloudrec start --url ${url} --app_id app-1 --project_id proj-1 --channel demo-room --sign_key k
  curl -s -X POST ${url}/v1/cloudRecord -H 'Content-Type: application/json' -H 'Prefer: code=409, example=channel_empty' \\
    -d '{"app_id":"a","project_id":"p","channel":"demo-room","sign_key":"k"}'`);
  // Prism itself, not through npx, so stopping this process stops the mock.
  const prism = spawn(join(projectRoot, 'node_modules/.bin/prism'), ['mock', '--host', String(values.host), '--port', String(values.port), join(projectRoot, 'generated/openapi.json')], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => prism.kill(signal));
  return new Promise((done) => prism.on('exit', (code) => done(code ?? exitCodes.ok)));
}

function docs(args: string[]): number {
  const values = parse(args, { out: { type: 'string', default: join(projectRoot, 'docs') }, open: { type: 'boolean', default: false } });
  const out = resolve(String(values.out));
  const build = spawnSync(join(projectRoot, 'node_modules/.bin/tsx'), [join(projectRoot, 'scripts/build-docs.ts'), '--out', out], { stdio: 'inherit' });
  if (build.status !== 0) throw new CliError('Building the docs failed (see above).', exitCodes.usage);
  const english = join(out, 'api/en/index.html');
  console.log(`Open ${pathToFileURL(english).href}, or run \`cloudrec serve\` and open http://127.0.0.1:8787/docs`);
  if (values.open) {
    const opened = spawnSync('xdg-open', [english], { stdio: 'ignore' });
    if (opened.error || opened.status !== 0) console.log('(no desktop browser to open here: use the address above)');
  }
  return exitCodes.ok;
}

const commands: Record<string, { run: (args: string[]) => Promise<number> | number; help: () => string }> = {
  serve: { run: serve, help: serveHelp },
  mock: { run: mock, help: mockHelp },
  docs: { run: docs, help: docsHelp },
  start: { run: (args) => startCommand(args, console.log), help: startHelp },
  status: { run: (args) => statusCommand(args, console.log), help: statusHelp },
};

/** Runs the command line `args` (without `node` and the script); resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? commands[rest[0]] : undefined;
    console.log(topic ? topic.help() : mainHelp());
    return exitCodes.ok;
  }
  const command = commands[name];
  if (!command) {
    console.error(`cloudrec: unknown command "${name}".\n\n${mainHelp()}`);
    return exitCodes.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help());
    return exitCodes.ok;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`cloudrec ${name}: ${error.message}`);
    return error.exitCode;
  }
}
