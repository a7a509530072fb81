#!/usr/bin/env node
// The `cloudrec` command. It runs the CLI from its TypeScript source through the project's tsx,
// as `npm start` and the scripts do: the server reads generated/ and openapi/ from the checkout,
// which a compiled copy in dist/ would not have beside it.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// serve and mock keep running until a signal; everything else ends here.
if (code !== 0 || !['serve', 'mock'].includes(process.argv[2] ?? '')) process.exitCode = code;
