import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type DatabaseConnection,
  Kysely,
  type Migration,
  Migrator,
  PostgresDialect,
  type RawBuilder,
  SqliteDialect,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { initial } from './migrations/0001_initial.js';
import { subscribers } from './migrations/0002_subscribers.js';
import { installation } from './migrations/0003_installation.js';
import { blobs } from './migrations/0004_blobs.js';
import { search } from './migrations/0005_search.js';
import { subscriptions } from './migrations/0006_subscriptions.js';
import { delivery } from './migrations/0007_delivery.js';
import { sessions } from './migrations/0008_sessions.js';
import { logos } from './migrations/0009_logos.js';
import { confirmationSource } from './migrations/0010_confirmation_source.js';
import { invitationBudget } from './migrations/0011_invitation_budget.js';
import { sessionFlash } from './migrations/0016_session_flash.js';
import { eventsAndRevisions } from './migrations/0017_events_and_revisions.js';
import { signInFailures } from './migrations/0018_sign_in_failures.js';
import { journalists } from './migrations/0025_journalists.js';
import { advanceAccess } from './migrations/0026_advance_access.js';
import { bounces } from './migrations/0027_bounces.js';
import { releaseCorrections } from './migrations/0029_release_corrections.js';
import { correctionNotices } from './migrations/0030_correction_notices.js';
import { journalistReleaseEmails } from './migrations/0033_journalist_release_emails.js';
import { advanceUpdates } from './migrations/0034_advance_updates.js';
import { brandColour } from './migrations/0021_brand_colour.js';
import { workerLiveness } from './migrations/0019_worker_liveness.js';
import { releaseEventsWebsub } from './migrations/0023_release_events_websub.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

/**
 * Runs `work` in `db`'s transaction when `db` is one (an operation joining its caller's
 * transaction), else in a transaction of its own.
 */
export function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}

/**
 * The database's own time, less `agoMs`, to store in a time column or compare with one
 * (in the form isoTime gives on SQLite, whose times are text). Times that processes on
 * several machines compare are read from this one clock, not each machine's own.
 */
export function databaseTime(dialect: Dialect, agoMs = 0): RawBuilder<string> {
  return dialect === 'postgres'
    ? sql<string>`(now() - make_interval(secs => ${agoMs / 1000}))`
    : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${-agoMs / 1000} seconds`})`;
}

export interface Store {
  db: Db;
  dialect: Dialect;
  /** PostgreSQL schema the tables live in, when not the default one. */
  schema?: string;
  /** DATABASE_URL, for messages. */
  url?: string;
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
    const database = openSqliteFile(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteRollbackSafeDialect(database) });
    return { db, dialect: 'sqlite', sqlite: database, destroy: () => db.destroy() };
  }

  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    // A database that does not answer must not hold a request until the operating
    // system gives up on the connection: after this the request is a 503 (errors.ts).
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === TIMESTAMPTZ_OID) return (value: string) => new Date(value).toISOString();
        if (oid === INT8_OID) return (value: string) => Number(value);
        return pg.types.getTypeParser(oid, format);
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server closed (a restart, a fail-over) is dropped by the pool,
  // and the next query reports the outage; without a listener its 'error' would end the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', schema: options.schema, url: databaseUrl, destroy: () => db.destroy() };
}

const whoAmI = () => `this user (uid ${process.getuid?.() ?? '?'})`;

/**
 * Opens (creating) the SQLite file, or says plainly which folder or file this user may
 * not write: SQLite itself only says "unable to open database file".
 */
function openSqliteFile(file: string): SQLite.Database {
  if (file === ':memory:') return new SQLite(file);
  const absolute = path.resolve(file);
  const folder = path.dirname(absolute);
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK | constants.X_OK);
    if (existsSync(absolute)) accessSync(absolute, constants.R_OK | constants.W_OK);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const denied = e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS';
    throw new Error(
      `DATABASE_URL: cannot open the SQLite database ${absolute}: ` +
        (denied
          ? `${e.path ?? folder} is not writable by ${whoAmI()} (${e.code}); SQLite also writes its -wal and -shm files next to the database, so the folder must be writable`
          : e.message),
    );
  }
  try {
    return new SQLite(absolute);
  } catch (error) {
    throw new Error(`DATABASE_URL: cannot open the SQLite database ${absolute}: ${(error as Error).message}`);
  }
}

/*
 * When a statement fails with SQLITE_FULL or SQLITE_IOERR, SQLite has already rolled the
 * transaction back; Kysely's rollback then fails with "cannot rollback - no transaction
 * is active", and that error replaces the real one. Skip the rollback when nothing is open.
 */
class SqliteRollbackSafeDialect extends SqliteDialect {
  constructor(private readonly database: SQLite.Database) {
    super({ database });
  }

  override createDriver() {
    const database = this.database;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(connection: DatabaseConnection) {
        if (database.inTransaction) await super.rollbackTransaction(connection);
      }
    })({ database });
  }
}

/** A PostgreSQL connection error, reworded for someone setting DATABASE_URL. */
function explainPostgresError(error: unknown, databaseUrl: string): Error {
  const e = error as { code?: string; message?: string };
  let url: URL | undefined;
  try {
    url = new URL(databaseUrl);
  } catch {
    // The configuration checked the shape; keep the original message if it still fails.
  }
  const name = decodeURIComponent(url?.pathname.slice(1) || url?.username || 'postgres');
  const where = `${url?.hostname || 'localhost'}:${url?.port || '5432'}`;
  switch (e.code) {
    case '3D000':
      return new Error(`DATABASE_URL: the PostgreSQL database "${name}" does not exist on ${where}. Create it first: createdb ${name}`);
    case '28P01':
    case '28000':
      return new Error(`DATABASE_URL: PostgreSQL on ${where} refused the user or password: ${e.message}`);
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
      return new Error(`DATABASE_URL: cannot reach PostgreSQL on ${where} (${e.code})`);
    default:
      return new Error(`DATABASE_URL: cannot use the PostgreSQL database "${name}" on ${where}: ${e.message ?? String(error)}`);
  }
}

export async function migrate(store: Store): Promise<void> {
  if (store.dialect === 'postgres') {
    // Connect once before migrating, so that a missing database says so (not "migration failed").
    try {
      await sql`select 1`.execute(store.db);
    } catch (error) {
      throw explainPostgresError(error, store.url ?? '');
    }
  }
  if (store.schema) await sql`create schema if not exists ${sql.id(store.schema)}`.execute(store.db);
  const migrations: Record<string, Migration> = {
    '0001_initial': initial(store.dialect),
    '0002_subscribers': subscribers(store.dialect),
    '0003_installation': installation(store.dialect),
    '0004_blobs': blobs(store.dialect),
    '0005_search': search(store.dialect),
    '0006_subscriptions': subscriptions(store.dialect),
    '0007_delivery': delivery(store.dialect),
    '0008_sessions': sessions(store.dialect),
    '0009_logos': logos(store.dialect),
    '0010_confirmation_source': confirmationSource(store.dialect),
    '0011_invitation_budget': invitationBudget(store.dialect),
    '0016_session_flash': sessionFlash(store.dialect),
    '0017_events_and_revisions': eventsAndRevisions(store.dialect),
    '0018_sign_in_failures': signInFailures(store.dialect),
    '0025_journalists': journalists(store.dialect),
    '0026_advance_access': advanceAccess(store.dialect),
    '0027_bounces': bounces(store.dialect),
    '0029_release_corrections': releaseCorrections(store.dialect),
    '0030_correction_notices': correctionNotices(store.dialect),
    '0033_journalist_release_emails': journalistReleaseEmails(store.dialect),
    '0034_advance_updates': advanceUpdates(store.dialect),
    '0021_brand_colour': brandColour(store.dialect),
    '0019_worker_liveness': workerLiveness(store.dialect),
    '0023_release_events_websub': releaseEventsWebsub(store.dialect),
  };
  // Kysely locks SQLite within this process only: two processes starting on a new file
  // (web and worker) would both migrate. An immediate transaction around the whole run
  // makes the second wait, then find nothing left to do.
  const sqlite = store.sqlite;
  // On PostgreSQL, the schema the tables go in: the store's, or the first of the search path
  // (a DATABASE_URL may set it: `?options=-c search_path=newsroom`).
  const tableSchema = store.schema ?? (store.dialect === 'postgres' ? await currentSchema(store) : undefined);
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    disableTransactions: !!sqlite,
    // Kysely looks for its bookkeeping tables in every schema of the database unless told
    // which: finding another schema's, it would skip making its own and then fail.
    ...(tableSchema ? { migrationTableSchema: tableSchema } : {}),
  });
  sqlite?.exec('begin immediate');
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  sqlite?.exec(error || failed ? 'rollback' : 'commit');
  if (error || failed) {
    const which = failed ? `Database migration ${failed.migrationName}` : 'Database migration';
    throw new Error(`${which} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function currentSchema(store: Store): Promise<string | undefined> {
  const { rows } = await sql<{ name: string | null }>`select current_schema() as name`.execute(store.db);
  return rows[0]?.name ?? undefined;
}

/** Drops the store's own PostgreSQL schema with everything in it (tests and benchmarks). */
export async function dropSchema(store: Store): Promise<void> {
  if (store.schema) await sql`drop schema ${sql.id(store.schema)} cascade`.execute(store.db);
}

export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}

/** The table of 0003_installation, outside `Database` since only this file uses it. */
type InstallationTable = {
  installation: { id: string; created_at: string; checked_at: string | null; one_row: number };
};

/** The database's identity (made by the migration), which the file store is marked with. */
export async function installationId(store: Store): Promise<string> {
  const row = await store.db.withTables<InstallationTable>().selectFrom('installation').select('id').executeTakeFirstOrThrow();
  return row.id;
}

/** A small write, for readiness: a full disk or a read-only database fails here. */
export async function probeStoreWrite(store: Store): Promise<void> {
  await store.db.withTables<InstallationTable>().updateTable('installation').set({ checked_at: new Date().toISOString() }).execute();
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
