/** Turn state storage keeps botbuilder's eTag contract on both databases. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { BotStateStore } from '../../src/db/bot-state-store.js';
import type { DatabaseHandle } from '../../src/db/client.js';

describe.each(testDatabases())('BotStateStore on %s', (kind) => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  let store: BotStateStore;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    handle = await db.open();
    store = new BotStateStore(handle.db);
  });
  afterAll(async () => {
    await handle.close();
    await db.drop();
  });

  it('reads back what it wrote, with a new eTag each write', async () => {
    await store.write({ k1: { a: 1 } });
    const first = await store.read(['k1', 'missing']);
    expect(Object.keys(first)).toEqual(['k1']);
    expect(first.k1).toMatchObject({ a: 1 });
    await store.write({ k1: { ...first.k1, a: 2 } });
    const second = await store.read(['k1']);
    expect(second.k1!.a).toBe(2);
    expect(second.k1!.eTag).not.toBe(first.k1!.eTag);
  });

  it('refuses a write with a stale eTag, and accepts * as last-writer-wins', async () => {
    await store.write({ k2: { v: 'one' } });
    const read = await store.read(['k2']);
    await store.write({ k2: { ...read.k2, v: 'two' } });
    await expect(store.write({ k2: { ...read.k2, v: 'stale' } })).rejects.toThrow(/eTag conflict/);
    expect((await store.read(['k2'])).k2!.v).toBe('two');
    await store.write({ k2: { v: 'forced', eTag: '*' } });
    expect((await store.read(['k2'])).k2!.v).toBe('forced');
  });

  it('deletes', async () => {
    await store.write({ k3: { x: 1 } });
    await store.delete(['k3']);
    expect(await store.read(['k3'])).toEqual({});
  });
});
