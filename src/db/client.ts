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
  const db = drizzle(client, { schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string, loadDataDir?: Blob | File): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');

  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, loadDataDir ? { loadDataDir } : {});
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

/** Rows of a raw `db.execute`: PGlite returns `{ rows }`, postgres.js an array. */
export async function executeRows<T extends Record<string, unknown>>(
  db: DatabaseOrTransaction,
  query: SQL,
): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
