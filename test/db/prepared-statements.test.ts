/**
 * On PostgreSQL every statement drizzle sends is a named prepared statement,
 * inside transactions too: an unnamed one costs postgres.js a Describe round
 * trip before each execution (and PostgreSQL a parse and plan each time).
 * drizzle asks for `prepare: false` unless a query was built with `.prepare()`;
 * src/db/client.ts overrides that.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from '../harness/databases.js';
import { executeRows, openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { getDraftForUpdate, listOpenDrafts } from '../../src/db/repositories/drafts.js';

describe.skipIf(!process.env.DATABASE_URL)('prepared statements on postgres', () => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    // One connection, so the transaction and the check below see the same session's statements.
    handle = await openDatabase({ databaseUrl: db.url!, pgliteDataDir: 'unused', poolSize: 1 });
  });
  afterAll(async () => {
    await handle.close();
    await db.drop();
  });

  const prepared = async () =>
    (await executeRows<{ statement: string }>(handle.db, sql`select statement from pg_prepared_statements`)).map((r) => r.statement);

  it('prepares a query built without .prepare(), outside and inside a transaction', async () => {
    await listOpenDrafts(handle.db, 'someone');
    await handle.db.transaction((tx) => getDraftForUpdate(tx, randomUUID()));
    const statements = await prepared();
    expect(statements.some((s) => s.includes('from "drafts"') && s.includes('order by'))).toBe(true);
    expect(statements.some((s) => s.includes('from "drafts"') && s.endsWith('for update'))).toBe(true);
  });

  it('runs a prepared statement again without preparing a second copy', async () => {
    const before = (await prepared()).length;
    await listOpenDrafts(handle.db, 'someone else');
    await handle.db.transaction((tx) => getDraftForUpdate(tx, randomUUID()));
    expect((await prepared()).length).toBe(before);
  });
});
