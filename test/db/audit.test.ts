/** The audit log: written by every create and view, hash-chained, append-only, and checked by `npm run audit:verify`. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness, people } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { submitReferral } from '../harness/referral.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { auditLog } from '../../src/db/schema.js';
import { executeRows } from '../../src/db/client.js';
import { appendAudit } from '../../src/db/repositories/audit.js';

const run = promisify(execFile);

describe.each(testDatabases())('audit on %s', (kind) => {
  let db: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    db = await createTestDatabase(kind, { persistent: true });
    h = await Harness.start({ database: await db.open() });
  });
  afterEach(async () => {
    await h.stop();
    await h.service.database.close().catch(() => {});
    await db.drop();
  });

  const entries = () => h.service.database.db.select().from(auditLog).orderBy(auditLog.seq);

  it('records creates and views by id and kind, with no free text, and the chain verifies', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    await h.user('alex').say('my referrals');
    await h.user('megan').say(`case ${reference}`);
    await h.user('adele').say(`case ${reference}`);

    const rows = await entries();
    const kinds = rows.map((r) => `${r.action}:${r.actorAadObjectId}`);
    expect(kinds).toEqual([
      `draft.create:${people.alex.aadObjectId}`,
      `referral.create:${people.alex.aadObjectId}`,
      `referral.status_view:${people.alex.aadObjectId}`,
      `referral.view:${people.megan.aadObjectId}`,
      `referral.view_denied:${people.adele.aadObjectId}`,
    ]);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    // Ids and kinds only: nothing typed about the person.
    expect(JSON.stringify(rows)).not.toMatch(/Jordan|Testperson|extremist/);
    expect(await verifyAuditChain(h.service.database.db)).toEqual({ entries: 5 });
  });

  it('refuses to update or delete an entry', async () => {
    await submitReferral(h.user('alex'));
    await expect(h.service.database.db.execute(sql`update audit_log set action = 'x' where seq = 1`)).rejects.toThrow();
    await expect(h.service.database.db.execute(sql`delete from audit_log where seq = 1`)).rejects.toThrow();
    expect((await verifyAuditChain(h.service.database.db)).problem).toBeUndefined();
  });

  it('keeps one unbroken chain when many turns write at once', async () => {
    await Promise.all(['alex', 'stranger', 'megan', 'adele'].map((u) => submitReferral(h.user(u as keyof typeof people))));
    const report = await verifyAuditChain(h.service.database.db);
    expect(report.problem).toBeUndefined();
    expect(report.entries).toBe(8);
  });

  it('keeps one chain when many transactions append at once, each taking the lock mid-transaction', async () => {
    const database = h.service.database.db;
    const before = (await verifyAuditChain(database)).entries;
    // Each transaction does some work first, so appends start at staggered times and queue on the lock.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        database.transaction(async (tx) => {
          await tx.execute(sql`select pg_sleep(${(i % 5) / 1000})`);
          await appendAudit(tx, new Date(), [{ actorAadObjectId: `user-${i}`, action: 'test.append', entityType: 'test', entityId: String(i) }]);
        }),
      ),
    );
    const report = await verifyAuditChain(database);
    expect(report.problem).toBeUndefined();
    expect(report.entries).toBe(before + 40);
  });

  it('writes views that arrive together in shared commits, each caller answered only after its entry is stored', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    const before = (await entries()).length;
    // 30 officers' views at once: the audit writes queue behind one another and go in batches.
    const cards = await Promise.all(Array.from({ length: 30 }, () => h.user('megan').say(`case ${reference}`)));
    expect(cards.every((c) => c.length >= 1)).toBe(true);
    const rows = await entries();
    expect(rows.length - before).toBe(30);
    expect(rows.slice(before).every((r) => r.action === 'referral.view' && r.actorAadObjectId === people.megan.aadObjectId)).toBe(true);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect((await verifyAuditChain(h.service.database.db)).problem).toBeUndefined();
  });

  it('detects tampering by someone who gets past the trigger, and audit:verify exits non-zero', async () => {
    await submitReferral(h.user('alex'));
    await h.user('alex').say('my referrals');

    const cli = async () => {
      const env = { ...process.env, ...(db.url ? { DATABASE_URL: db.url } : { DATABASE_URL: '', PGLITE_DATA_DIR: db.dataDir! }) };
      try {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { env });
        return { code: 0, out: stdout };
      } catch (e) {
        const err = e as { code: number; stderr: string };
        return { code: err.code, out: err.stderr };
      }
    };
    // The embedded database has one user at a time: the CLI runs while the service is stopped.
    const pause = async () => {
      if (db.kind === 'pglite') await h.service.database.close();
    };
    const resume = async () => {
      if (db.kind === 'pglite') {
        await h.stop();
        h = await Harness.start({ database: await db.open() });
      }
    };

    await pause();
    expect(await cli()).toMatchObject({ code: 0, out: expect.stringContaining('audit chain OK: 3 entries') });
    await resume();

    // An attacker with table rights disables the trigger and rewrites who did something.
    const dd = h.service.database.db;
    await dd.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    await dd.execute(sql`update audit_log set actor_aad_object_id = 'someone-else' where seq = 2`);
    await dd.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
    expect((await verifyAuditChain(dd)).problem).toEqual({ seq: 2, problem: 'hash' });

    await pause();
    const broken = await cli();
    expect(broken.code).toBe(1);
    expect(broken.out).toContain('audit chain BROKEN at entry 2');
    await resume();
  });

  it('detects a removed entry', async () => {
    await submitReferral(h.user('alex'));
    const d = h.service.database.db;
    await d.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    await d.execute(sql`delete from audit_log where seq = 1`);
    await d.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
    expect((await verifyAuditChain(d)).problem).toEqual({ seq: 2, problem: 'gap' });
    const [{ n }] = (await executeRows<{ n: number }>(d, sql`select count(*)::int as n from audit_log`)) as [{ n: number }];
    expect(n).toBe(1);
  });
});
