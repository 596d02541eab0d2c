/**
 * `together` runs a transaction's independent statements at once. It must
 * behave like awaiting them one by one: all commit or none, the first failure
 * is what the caller sees, and nothing is still running when it returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { executeRows, together, type DatabaseHandle, type Transaction } from '../../src/db/client.js';

describe.each(testDatabases())('together on %s', (kind) => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    handle = await db.open();
    await handle.db.execute(sql`create table together_probe (id int primary key)`);
  });
  afterAll(async () => {
    await handle.close();
    await db.drop();
  });

  const insert = (tx: Transaction, id: number) =>
    tx.execute(sql`insert into together_probe (id) values (${id}) returning id`);
  const ids = async () => (await executeRows<{ id: number }>(handle.db, sql`select id from together_probe order by id`)).map((r) => r.id);

  it('commits every statement and returns their results in order', async () => {
    const [a, b] = await handle.db.transaction((tx) => together([insert(tx, 1), insert(tx, 2)]));
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(await ids()).toEqual([1, 2]);
  });

  it('rolls all of them back on a failure, and throws it only once every statement has finished', async () => {
    let slowFinished = false;
    const slow = new Promise<void>((resolve) =>
      setTimeout(() => {
        slowFinished = true;
        resolve();
      }, 150),
    );
    const attempt = handle.db.transaction((tx) => together([insert(tx, 3), insert(tx, 1), slow]));
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error },
    );
    // drizzle wraps the driver's error ("Failed query: …") and keeps it as the cause.
    expect(error?.cause?.message ?? error?.message).toMatch(/duplicate key/i);
    expect(slowFinished).toBe(true);
    expect(await ids()).toEqual([1, 2]);
    // The connection is back in a usable state.
    await handle.db.transaction((tx) => together([insert(tx, 4)]));
    expect(await ids()).toEqual([1, 2, 4]);
  });
});
