/** Reference numbers come from the database: per prefix and year, consecutive, unique under concurrency. */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { insertNumberedReferral } from '../../src/db/repositories/referrals.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { FieldCipher, installFieldCipher } from '../../src/db/field-crypto.js';

describe.each(testDatabases())('reference numbers on %s', (kind) => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    // The repository seals narrative answers (there are none here, but it needs a cipher).
    installFieldCipher(new FieldCipher(new Map([['k1', randomBytes(32)]]), 'k1'));
    db = await createTestDatabase(kind);
    handle = await db.open();
  });
  afterAll(async () => {
    await handle.close();
    await db.drop();
  });

  const submit = (year: number, prefix = 'PRV') =>
    handle.db.transaction((tx) =>
      insertNumberedReferral(tx, {
        id: randomUUID(),
        prefix,
        year,
        pathway: 'prevent',
        draftId: randomUUID(),
        referrerAadObjectId: 'someone',
        areaId: 'northgate',
        answers: {},
        submittedAt: new Date(),
        triageDueOn: '2031-01-08',
      }),
    );

  it('counts per year and starts again each year', async () => {
    expect((await submit(2026)).reference).toBe('PRV-2026-000001');
    expect((await submit(2026)).reference).toBe('PRV-2026-000002');
    expect((await submit(2027)).reference).toBe('PRV-2027-000001');
    expect((await submit(2026, 'CSE')).reference).toBe('CSE-2026-000001');
  });

  it('gives concurrent submissions distinct, consecutive numbers', async () => {
    const refs = await Promise.all(Array.from({ length: 20 }, () => submit(2030)));
    const numbers = refs.map((r) => Number(r.reference.slice(-6))).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('leaves no gap when a submission rolls back', async () => {
    await submit(2031);
    await expect(
      handle.db.transaction(async (tx) => {
        await insertNumberedReferral(tx, { id: randomUUID(), prefix: 'PRV', year: 2031, pathway: 'prevent', draftId: randomUUID(), referrerAadObjectId: 'x', areaId: 'a', answers: {}, submittedAt: new Date(), triageDueOn: '2031-01-08' });
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    expect((await submit(2031)).reference).toBe('PRV-2031-000002');
  });
});
