// For the benchmark only (`npm run bench -- --only drivers`): better-sqlite3 (a devDependency, never
// shipped) behind the part of node:sqlite's DatabaseSync the server uses, so the same server code
// runs on either driver and the two are measured in one run.
import { createRequire } from 'node:module';

const Database = createRequire(import.meta.url)('better-sqlite3');
const codes = { SQLITE_PERM: 3, SQLITE_BUSY: 5, SQLITE_READONLY: 8, SQLITE_CORRUPT: 11, SQLITE_FULL: 13, SQLITE_CANTOPEN: 14, SQLITE_NOTADB: 26 };

/** better-sqlite3's error as node:sqlite throws it: a numeric `errcode`. */
const translated = (error) => Object.assign(error, { errcode: codes[String(error.code).replace(/^(SQLITE_[A-Z]+).*/, '$1')] ?? 1 });
const translating = (work) => {
  try {
    return work();
  } catch (error) {
    throw translated(error);
  }
};

class StatementSync {
  #statement;
  constructor(statement) {
    this.#statement = statement;
  }
  run(...params) {
    return translating(() => this.#statement.run(...params));
  }
  // node:sqlite answers get() of a statement without rows with undefined; better-sqlite3 refuses it.
  get(...params) {
    return translating(() => (this.#statement.reader ? this.#statement.get(...params) : (this.#statement.run(...params), undefined)));
  }
  all(...params) {
    return translating(() => (this.#statement.reader ? this.#statement.all(...params) : (this.#statement.run(...params), [])));
  }
}

export class DatabaseSync {
  #db;
  constructor(path, { timeout = 0, readOnly = false } = {}) {
    this.#db = translating(() => new Database(path, { timeout, readonly: readOnly }));
  }
  prepare(sql) {
    return new StatementSync(translating(() => this.#db.prepare(sql)));
  }
  exec(sql) {
    translating(() => this.#db.exec(sql));
  }
  get isTransaction() {
    return this.#db.inTransaction;
  }
  location() {
    return this.#db.memory ? null : this.#db.name;
  }
  close() {
    this.#db.close();
  }
}
