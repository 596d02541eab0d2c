/**
 * Databases for tests: PGlite always (a migrated template cloned per test),
 * and a real PostgreSQL when DATABASE_URL is set (a fresh database per test,
 * dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** The databases this run tests against. */
export function testDatabases(): DatabaseKind[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

let pgliteTemplate: Promise<Blob> | undefined;

async function pgliteFromTemplate(): Promise<DatabaseHandle> {
  pgliteTemplate ??= (async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const h = await openDatabase({ pgliteDataDir: 'memory://' });
    // Reach the underlying PGlite to dump it: drizzle keeps it as $client.
    const client = (h.db as unknown as { $client: InstanceType<typeof PGlite> }).$client;
    const dump = await client.dumpDataDir('none');
    await h.close();
    return dump;
  })();
  return openDatabase({ pgliteDataDir: 'memory://', loadDataDir: await pgliteTemplate });
}

export interface TestDatabase {
  readonly kind: DatabaseKind;
  /** Opens a new handle on the same database (a restarted instance, a second instance). */
  open(): Promise<DatabaseHandle>;
  /** postgres:// URL of this test's database (postgres only). */
  readonly url?: string;
  /** PGlite data folder (file-backed, so a restart sees the same data). */
  readonly dataDir?: string;
  drop(): Promise<void>;
}

/**
 * A fresh database. For PGlite, `persistent` gives a file-backed folder
 * that can be closed and opened again (restart tests); otherwise in memory.
 */
export async function createTestDatabase(kind: DatabaseKind, opts: { persistent?: boolean } = {}): Promise<TestDatabase> {
  if (kind === 'pglite') {
    if (opts.persistent) {
      const dataDir = mkdtempSync(join(tmpdir(), 'sgd-pglite-'));
      return { kind, dataDir, open: () => openDatabase({ pgliteDataDir: dataDir }), drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
    }
    let first = true;
    return {
      kind,
      open: async () => {
        if (!first) throw new Error('an in-memory PGlite database can be opened once; ask for persistent: true');
        first = false;
        return pgliteFromTemplate();
      },
      drop: async () => {},
    };
  }
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `sgd_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    open: () => openDatabase({ databaseUrl: url.toString(), pgliteDataDir: 'unused', poolSize: 5 }),
    drop: async () => {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
