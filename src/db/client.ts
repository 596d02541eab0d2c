/**
 * Opens the database: PGlite (embedded, file-backed or `memory://`) when no
 * DATABASE_URL is set, postgres.js otherwise. Both get the same schema and the
 * same migrations folder. Everything above this module sees one `Database` type.
 */
import { migrationsFolder } from '../paths.js';
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import * as schema from './schema.js';
import { seedFromTemplate } from './pglite-template.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Repositories take this first, so they run alone or inside the caller's transaction. */
export type DatabaseOrTransaction = Database | Transaction;


export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: 'pglite' | 'postgres';
  /** Cheap round trip for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; absent → embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data folder, or `memory://` for tests. */
  pgliteDataDir: string;
  /** Connections in the postgres.js pool. */
  poolSize?: number;
  /** A PGlite data dir dump to start from (tests clone a migrated database). */
  loadDataDir?: Blob | File;
}

// Any number will do as long as every instance uses the same one.
const MIGRATION_LOCK_ID = 7_246_001;

/** Opens and migrates the database. Migrations run under an advisory lock so two instances starting together do not race. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options.pgliteDataDir, options.loadDataDir);
}

async function openPostgres(url: string, poolSize: number): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');

  const migrationClient = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrationClient`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migrate(drizzle(migrationClient), { migrationsFolder });
    await migrationClient`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
  } finally {
    await migrationClient.end({ timeout: 5 });
  }

  const client = postgres(url, { max: poolSize, onnotice: () => {} });
  const db = drizzle(preparingEveryStatement(client), { schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

type PostgresClient = import('postgres').Sql;

/**
 * drizzle sends every query through `client.unsafe(text, params, { prepare })`
 * and asks for `prepare: false` unless the query was built with `.prepare(name)`.
 * postgres.js runs an unprepared statement that has parameters with a Describe
 * round trip first, and PostgreSQL parses and plans it every time. This client
 * prepares every statement, in transactions and savepoints too: postgres.js
 * keeps one named statement per query text on each connection, so after the
 * first execution a statement is one round trip. Measured on bench:submit:
 * PostgreSQL CPU per turn 1.60 → 1.24 ms.
 *
 * The statement cache is per connection and postgres.js retires a connection
 * after 30–60 minutes (`max_lifetime`), which bounds the cache even for query
 * texts that vary (an `in (…)` list has one text per length). Behind a
 * connection pooler in transaction mode, the pooler must keep prepared
 * statements per server connection (PgBouncer ≥ 1.21 with
 * `max_prepared_statements` set).
 */
function preparingEveryStatement<T extends PostgresClient>(client: T): T {
  const wrap = <C extends object>(c: C): C =>
    new Proxy(c, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'unsafe' && typeof value === 'function') {
          return (text: string, params?: unknown[], options: Record<string, unknown> = {}) =>
            (value as (...a: unknown[]) => unknown).call(target, text, params ?? [], { ...options, prepare: true });
        }
        if ((prop === 'begin' || prop === 'savepoint') && typeof value === 'function') {
          return (...args: unknown[]) => {
            const cb = args.at(-1);
            if (typeof cb !== 'function') return (value as (...a: unknown[]) => unknown).apply(target, args);
            const wrapped = (inner: object) => (cb as (c: object) => unknown)(wrap(inner));
            return (value as (...a: unknown[]) => unknown).apply(target, [...args.slice(0, -1), wrapped]);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return wrap(client);
}

/**
 * PGlite's shared buffers. Its default, 128 MB, was about 140 MB of the
 * embedded service's ~450 MB idle RSS; one local service's working set fits
 * in far less, and reads that miss come from the operating system's cache.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

async function openPglite(dataDir: string, loadDataDir?: Blob | File): Promise<DatabaseHandle> {
  // A new data folder starts as a copy of the migrated template, when npm ci made one. The copy
  // runs on a worker thread, started here before index.ts loads the bot, alongside PGlite's import.
  const seeded = dataDir.startsWith('memory://') || loadDataDir ? Promise.resolve(false) : seedFromTemplate(dataDir);
  seeded.catch(() => {}); // awaited (and its error thrown) below, after the imports
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  await seeded;
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, {
    ...(loadDataDir ? { loadDataDir } : {}),
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

/**
 * One prepared query per database handle: drizzle builds the SQL once
 * instead of on every turn. For the hot statements run outside transactions.
 */
export function preparedPer<P>(build: (db: DatabaseOrTransaction) => P): (db: DatabaseOrTransaction) => P {
  const cache = new WeakMap<object, P>();
  return (db) => {
    let p = cache.get(db);
    if (!p) {
      p = build(db);
      cache.set(db, p);
    }
    return p;
  };
}

/**
 * Runs statements of one transaction together: on PostgreSQL, postgres.js
 * sends them down the transaction's connection without waiting for each
 * answer, so they cost one round trip instead of one each. Use it for
 * statements that do not depend on each other, in the part of a transaction
 * that holds a lock other transactions wait for.
 *
 * It waits for every statement to finish before it returns, or throws the
 * first failure: a statement still running when the transaction callback
 * ends would not be part of the transaction (postgres.js would send it on the
 * connection after COMMIT or ROLLBACK, when the pool may have lent it to
 * another caller).
 */
export async function together<const T extends readonly Promise<unknown>[]>(statements: T): Promise<Results<T>> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as Results<T>;
}
type Results<T extends readonly Promise<unknown>[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

/** Rows of a raw `db.execute`: PGlite returns `{ rows }`, postgres.js an array. */
export async function executeRows<T extends Record<string, unknown>>(
  db: DatabaseOrTransaction,
  query: SQL,
): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
