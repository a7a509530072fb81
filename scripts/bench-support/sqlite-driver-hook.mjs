// `node --import` this file to run the server (or the bench's own data preparation) with
// better-sqlite3 standing in for node:sqlite (see better-sqlite3-as-node-sqlite.mjs).
import { registerHooks } from 'node:module';

const shim = new URL('./better-sqlite3-as-node-sqlite.mjs', import.meta.url).href;
registerHooks({
  resolve: (specifier, context, next) => (specifier === 'node:sqlite' || specifier === 'sqlite' ? { url: shim, shortCircuit: true } : next(specifier, context)),
});
