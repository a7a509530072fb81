// `cloudrec`: the command line of the toolkit. Subcommands wrap what users do: run the reference
// server or the mock, build the docs, start a recording, follow a task. Each command's module is
// loaded only when it runs (or its help is asked for), so `cloudrec --help` loads no server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { apiVersion } from '../../generated/response-rules.js';
import { packageRoot } from '../package-root.js';
import { CliError, exitCodeHelp, exitCodes } from './exit-codes.js';
import { nearestFlag, parseFlags } from './flags.js';

const serveHelp = async () => {
  const { defaultConfig, settingVariables } = await import('../server/config.js');
  return `Usage: cloudrec serve [options]

Runs the reference server (as \`npm start\` does, without building the docs). Each option sets
the server setting of that name (also accepted in kebab-case: --data-dir); the environment
variable and the config file work too.

Options:
${Object.entries(defaultConfig)
  .map(([key, value]) => `  --${key} <value>  ${settingVariables[key as keyof typeof defaultConfig]}, default ${JSON.stringify(value)}`)
  .join('\n')}`;
};

const mockHelp = () => `Usage: cloudrec mock [--host 127.0.0.1] [--port 4010]

Serves the spec with the Prism mock: requests are checked against the spec, answers come from
its examples. Ask for a documented failure with a header, e.g. \`Prefer: code=409, example=channel_empty\`.
Prism is not installed with cloudrec: add it with \`npm install --save-dev @stoplight/prism-cli@5.14.2\`.`;

const docsHelp = () => `Usage: cloudrec docs [--out docs] [--open]

In a clone of the repository, builds the docs site (a home page, Getting started, the API
reference in English and 中文, the client reference and the spec files) and prints where it is;
in the installed package, prints where its built site is. --open opens the home page in the
desktop's browser (xdg-open), when there is one.`;

const mainHelp = () => `cloudrec ${apiVersion}: the toolkit of the cloud-recording API (POST /v1/cloudRecord)

Usage: cloudrec <command> [options]    (cloudrec <command> --help for its options)

Commands:
  serve    run the reference server (127.0.0.1:8787, demo project on first run)
  mock     run the Prism mock of the spec (127.0.0.1:4010)
  docs     build the API and client docs, and say where they are
  start    start a recording: POST /v1/cloudRecord, flags named after the request's fields
  status   a task's state and files; --follow shows progress until it ends
  migrate  copy an embedded deployment (--from <data folder>) into a fleet's PostgreSQL
  conformance  check any server of the API against the spec (--base-url <url>)
  webhooks listen|send  receive and check signed events, or send the spec's examples to a receiver
  help     this text

Options: --version, --help

${exitCodeHelp}`;

async function serve(args: string[]): Promise<number> {
  const { defaultConfig, settingVariables } = await import('../server/config.js');
  const keys = Object.keys(defaultConfig) as (keyof typeof defaultConfig)[];
  const { values } = parseFlags(args, Object.fromEntries(keys.map((key) => [key, { type: 'string' as const }])), 'serve');
  const env = { ...process.env };
  for (const key of keys) {
    const value = values[key];
    if (typeof value === 'string') env[settingVariables[key]] = value;
  }
  const { runServer } = await import('../server/main.js');
  await runServer(env);
  // runServer sets exitCode 2 on bad configuration; otherwise the server runs until a signal.
  return process.exitCode === undefined ? exitCodes.ok : Number(process.exitCode);
}

/** Prism's command, from the project that runs cloudrec (a peer dependency) or this checkout. */
function prismBin(): string | undefined {
  for (const from of [join(process.cwd(), 'package.json'), join(packageRoot, 'package.json')]) {
    try {
      const manifest = createRequire(from).resolve('@stoplight/prism-cli/package.json');
      const bin = join(dirname(manifest), 'dist/index.js');
      if (existsSync(bin)) return bin;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

function mock(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '4010' } }, 'mock');
  const prism = prismBin();
  if (!prism) {
    throw new CliError(
      'the mock runs Prism, which is not installed with cloudrec. Add it to your project: npm install --save-dev @stoplight/prism-cli@5.14.2',
      exitCodes.usage,
    );
  }
  const url = `http://${String(values.host)}:${String(values.port)}`;
  console.log(`Prism mock of the spec on ${url}. Try:
  cloudrec start --url ${url} --app_id app-1 --project_id proj-1 --channel demo-room --sign_key k
  curl -s -X POST ${url}/v1/cloudRecord -H 'Content-Type: application/json' -H 'Prefer: code=409, example=channel_empty' \\
    -d '{"app_id":"a","project_id":"p","channel":"demo-room","sign_key":"k"}'`);
  // Prism itself in this process's child, not through npx, so stopping this process stops the mock.
  const child = spawn(process.execPath, [prism, 'mock', '--host', String(values.host), '--port', String(values.port), join(packageRoot, 'generated/openapi.json')], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
  return new Promise((done) => child.on('exit', (code) => done(code ?? exitCodes.ok)));
}

function docs(args: string[]): number {
  const { values } = parseFlags(args, { out: { type: 'string', default: join(packageRoot, 'docs') }, open: { type: 'boolean', default: false } }, 'docs');
  const out = resolve(String(values.out));
  const builder = join(packageRoot, 'scripts/build-docs.ts');
  if (existsSync(builder)) {
    const build = spawnSync(join(packageRoot, 'node_modules/.bin/tsx'), [builder, '--out', out], { stdio: 'inherit' });
    if (build.status !== 0) throw new CliError('Building the docs failed (see above).', exitCodes.usage);
  } else if (!existsSync(join(out, 'index.html'))) {
    throw new CliError(`No built docs in ${out}; the package ships them in ${join(packageRoot, 'docs')}.`, exitCodes.usage);
  }
  const home = join(out, 'index.html');
  console.log(`Open ${pathToFileURL(home).href}, or run \`cloudrec serve\` and open http://127.0.0.1:8787/docs/`);
  if (values.open) {
    const opened = spawnSync('xdg-open', [home], { stdio: 'ignore' });
    if (opened.error || opened.status !== 0) console.log('(no desktop browser to open here: use the address above)');
  }
  return exitCodes.ok;
}

interface Command {
  run: (args: string[]) => Promise<number> | number;
  help: () => Promise<string> | string;
}

const commands: Record<string, Command> = {
  serve: { run: serve, help: serveHelp },
  mock: { run: mock, help: mockHelp },
  docs: { run: docs, help: docsHelp },
  start: {
    run: async (args) => (await import('./start-command.js')).startCommand(args, console.log),
    help: async () => (await import('./start-command.js')).startHelp(),
  },
  conformance: {
    run: async (args) => (await import('./conformance-command.js')).conformanceCommand(args, console.log),
    help: async () => (await import('./conformance-command.js')).conformanceHelp(),
  },
  status: {
    run: async (args) => (await import('./status-command.js')).statusCommand(args, console.log),
    help: async () => (await import('./status-command.js')).statusHelp(),
  },
  migrate: {
    run: async (args) => (await import('./migrate-command.js')).migrateCommand(args, console.log),
    help: async () => (await import('./migrate-command.js')).migrateHelp(),
  },
  webhooks: {
    run: async (args) => (await import('./webhooks-command.js')).webhooksCommand(args, console.log),
    help: async () => (await import('./webhooks-command.js')).webhooksHelp(),
  },
};

/** Runs the command line `args` (without `node` and the script); resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === '--version' || name === '-V') {
    console.log(`cloudrec ${apiVersion}`);
    return exitCodes.ok;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? commands[rest[0]] : undefined;
    console.log(topic ? await topic.help() : mainHelp());
    return exitCodes.ok;
  }
  const command = commands[name];
  if (!command) {
    const near = nearestFlag(name, Object.keys(commands));
    console.error(`cloudrec: unknown command "${name}".${near ? ` Did you mean "${near}"?` : ''}\n\n${mainHelp()}`);
    return exitCodes.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(await command.help());
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
