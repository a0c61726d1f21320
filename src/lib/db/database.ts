import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { initial } from './migrations/0001_initial.js';
import { subscribers } from './migrations/0002_subscribers.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  dialect: Dialect;
  /** PostgreSQL schema the tables live in, when not the default one. */
  schema?: string;
  /** The SQLite file's own connection, for what Kysely does not cover. */
  sqlite?: SQLite.Database;
  destroy(): Promise<void>;
}

const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

/**
 * Opens the database named by DATABASE_URL. `schema` (PostgreSQL only) puts every
 * table in that schema, which the tests use to give each test file its own.
 */
export function openStore(databaseUrl: string, options: { schema?: string } = {}): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return { db, dialect: 'sqlite', sqlite: database, destroy: () => db.destroy() };
  }

  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === TIMESTAMPTZ_OID) return (value: string) => new Date(value).toISOString();
        if (oid === INT8_OID) return (value: string) => Number(value);
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', schema: options.schema, destroy: () => db.destroy() };
}

export async function migrate(store: Store): Promise<void> {
  if (store.schema) await sql`create schema if not exists ${sql.id(store.schema)}`.execute(store.db);
  const migrations: Record<string, Migration> = {
    '0001_initial': initial(store.dialect),
    '0002_subscribers': subscribers(store.dialect),
  };
  // Kysely locks SQLite within this process only: two processes starting on a new file
  // (web and worker) would both migrate. An immediate transaction around the whole run
  // makes the second wait, then find nothing left to do.
  const sqlite = store.sqlite;
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    disableTransactions: !!sqlite,
    // Without this, Kysely looks for its bookkeeping tables in every schema on the path.
    ...(store.schema ? { migrationTableSchema: store.schema } : {}),
  });
  sqlite?.exec('begin immediate');
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  sqlite?.exec(error || failed ? 'rollback' : 'commit');
  if (error || failed) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}

/** Drops the store's own PostgreSQL schema with everything in it (tests and benchmarks). */
export async function dropSchema(store: Store): Promise<void> {
  if (store.schema) await sql`drop schema ${sql.id(store.schema)} cascade`.execute(store.db);
}

export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}

const writeCounters = new WeakMap<SQLite.Database, SQLite.Statement>();

/**
 * A value that changes whenever a write is committed to the database by any connection
 * (SQLite's data_version counts other connections' commits, total_changes() this one's),
 * for caches that must never outlive a change; undefined where the database has no such
 * cheap counter (PostgreSQL), which means: no cache may be trusted.
 */
export function writeCounter(store: Store): string | undefined {
  const sqlite = store.sqlite;
  if (!sqlite) return undefined;
  let statement = writeCounters.get(sqlite);
  if (!statement) {
    statement = sqlite.prepare('select total_changes() as changes, data_version as version from pragma_data_version');
    writeCounters.set(sqlite, statement);
  }
  const row = statement.get() as { changes: number; version: number };
  return `${row.version}.${row.changes}`;
}
