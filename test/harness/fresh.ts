/** A fresh database and a started service for each test in the calling `describe`. */
import { afterEach, beforeEach } from 'vitest';
import { Harness } from './harness.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

/**
 * Registers beforeEach/afterEach; read the harness through the returned
 * function inside tests. `now` is the service's clock (tests that move time
 * pass a function reading their own variable).
 */
export function freshHarnessEach(kind: DatabaseKind, o: { now?: () => Date } = {}): () => Harness {
  let db: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    db = await createTestDatabase(kind);
    h = await Harness.start({ database: await db.open(), ...(o.now ? { now: o.now } : {}) });
  });
  afterEach(async () => {
    await h.stop();
    await h.service.database.close();
    await db.drop();
  });
  return () => h;
}
