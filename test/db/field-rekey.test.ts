/**
 * Key rotation (`npm run keys:rotate`): values sealed under key A, the
 * current key switched to B, the rotation run — every sealed value is then
 * under B and opens to what it was; plain text from before encryption is
 * sealed; a second run changes nothing; a value under a key nobody has
 * stops it with a message naming that key; the append-only tables stay
 * append-only. And the command itself, on an embedded database.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { Harness, people } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { openCase, press, triage } from '../harness/officer.js';
import { storedColumns, storedValuesContaining } from '../harness/scan.js';
import type { Database, DatabaseHandle } from '../../src/db/client.js';
import { FieldCipher, FieldDecryptionError, installFieldCipher, keyIdOf } from '../../src/db/field-crypto.js';
import { rotateFieldKeys, type RekeyCounts } from '../../src/db/field-rekey.js';
import { accessRequests, auditLog, caseEntries, drafts, referrals, transfers, triageAssessments } from '../../src/db/schema.js';
import * as referralsRepo from '../../src/db/repositories/referrals.js';
import * as draftsRepo from '../../src/db/repositories/drafts.js';
import * as casesRepo from '../../src/db/repositories/cases.js';
import * as approvalsRepo from '../../src/db/repositories/approvals.js';
import { verifyAuditChain } from '../../src/app/audit.js';

const run = promisify(execFile);
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const envOf = (keys: Record<string, Buffer>, current: string) => ({
  FIELD_ENCRYPTION_KEYS: JSON.stringify(Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, k.toString('base64')]))),
  FIELD_ENCRYPTION_CURRENT_KEY_ID: current,
});
const cipherOf = (keys: Record<string, Buffer>, current: string) => new FieldCipher(new Map(Object.entries(keys)), current);

/** Monday 30 November 2026, 10:00 London. */
const clock = new Date('2026-11-30T10:00:00Z');

/** Everything the repositories read back, opened: what the service would show. */
async function everything(db: Database): Promise<unknown> {
  const ids = async (table: typeof drafts | typeof referrals | typeof transfers | typeof accessRequests | typeof triageAssessments) =>
    (await db.select({ id: table.id }).from(table).orderBy(table.id)).map((r) => r.id);
  const out: Record<string, unknown> = {};
  out.drafts = await Promise.all((await ids(drafts)).map((id) => draftsRepo.getDraft(db, id)));
  out.referrals = await Promise.all((await ids(referrals)).map((id) => referralsRepo.findReferralById(db, id)));
  out.triages = await Promise.all(out.referrals ? (out.referrals as Array<{ id: string }>).map((r) => casesRepo.findTriage(db, r.id)) : []);
  const caseIds = [...new Set((await db.select({ id: caseEntries.caseId }).from(caseEntries)).map((r) => r.id))].sort();
  out.entries = await Promise.all(caseIds.map((id) => casesRepo.listEntries(db, id)));
  out.transfers = await Promise.all((await ids(transfers)).map((id) => approvalsRepo.findTransfer(db, id)));
  out.access = await Promise.all((await ids(accessRequests)).map((id) => approvalsRepo.findAccessRequest(db, id)));
  return out;
}

/** The key ids of every sealed value stored anywhere. */
async function storedKeyIds(db: Database): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const v of await storedValuesContaining(db, 'enc:v1:', await storedColumns(db))) {
    for (const m of v.text.matchAll(/enc:v1:[^:"]+/g)) {
      const id = keyIdOf(`${m[0]}:`)!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

const total = (report: RekeyCounts[], k: 'rowsChanged' | 'resealed' | 'sealed') => report.reduce((n, c) => n + c[k], 0);

describe.each(testDatabases())('key rotation on %s', (kind) => {
  let t: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    await handle?.close();
    await t?.drop();
    h = handle = t = undefined;
  });

  /** Two referrals' worth of free text, written by the service under key A. */
  async function writtenUnderA(): Promise<Database> {
    t = await createTestDatabase(kind);
    handle = await t.open();
    h = await Harness.start({ database: handle, now: () => clock, env: envOf({ kA: keyA }, 'kA') });
    for (const who of ['megan', 'nestor', 'isaiah', 'lidia'] as const) await h.user(who).install();
    const megan = h.user('megan');
    for (const n of [1, 2]) {
      const { reference } = await submitReferral(h.user('alex'), validAnswers({ concern: { whatSeenOrHeard: `Concern number ${n}` } }));
      await triage(megan, reference, { outcome: 'channel', rationale: `Rationale ${n}`, contactMade: 'yes' });
      await megan.execute('case.submit', { reference, form: 'note', text: `Note ${n}` });
      await megan.execute('case.submit', { reference, form: 'close', reason: 'riskReduced', note: `Closing ${n}` });
      const [find] = await h.user('lidia').say('access');
      const form = await press(h.user('lidia'), find!, 'Find', { reference, lastName: '', dateOfBirth: '' });
      await press(h.user('lidia'), form, 'Send request', { purpose: 'other', purposeDetail: `Detail ${n}`, justification: `Why ${n}`, scopes: 'summary', days: '3' });
    }
    const { reference } = await submitReferral(h.user('alex'));
    await triage(megan, reference, { outcome: 'channel', rationale: 'Third', contactMade: 'no' });
    const move = await press(megan, await openCase(megan, reference), 'Transfer to another area');
    expect(cardText(await press(megan, move, 'Save', { toArea: 'eastfield', reason: 'Moved', newAddress: '3 Elm Row' }))).toContain('Transfer to Eastfield requested');
    await h.stop();
    h = undefined;
    return handle.db;
  }

  it('re-seals every value under the new key, in batches, and reads the same before and after', async () => {
    const db = await writtenUnderA();
    // A narrative answer stored before encryption existed, and an access request's text likewise.
    await db.execute(sql`insert into drafts (owner_aad_object_id, pathway, current_step, answers)
      values (${people.alex.aadObjectId}, 'prevent', 'concern', ${JSON.stringify({ concern: { whatSeenOrHeard: 'Plain from before encryption', concernType: 'incel' } })}::jsonb)`);
    installFieldCipher(cipherOf({ kA: keyA }, 'kA'));
    const before = await everything(db);
    expect((await storedKeyIds(db)).get('kA')).toBeGreaterThan(20);

    // The current key becomes B; A stays in the ring to read what it sealed.
    installFieldCipher(cipherOf({ kA: keyA, kB: keyB }, 'kB'));
    expect(await everything(db)).toEqual(before);
    const progress: string[] = [];
    const report = await rotateFieldKeys(db, { batchSize: 2, onProgress: (c) => progress.push(`${c.table}:${c.scanned}`), now: () => clock });
    expect([...(await storedKeyIds(db)).keys()]).toEqual(['kB']);
    expect(await everything(db)).toEqual(before);
    expect((await storedValuesContaining(db, 'Plain from before encryption')).length).toBe(0);
    expect(total(report, 'sealed')).toBe(1);
    expect(total(report, 'resealed')).toBeGreaterThan(20);
    expect(Object.fromEntries(report.map((c) => [c.table, c.rowsChanged]))).toMatchObject({ triage_assessments: 3, transfers: 1, access_requests: 2, referrals: 3, drafts: 4 });
    expect(progress.filter((p) => p.startsWith('case_entries:')).length).toBeGreaterThan(1); // several batches
    // Each batch that changed something is audited, and the chain holds.
    expect((await db.select().from(auditLog).where(eq(auditLog.action, 'fields.reseal'))).length).toBeGreaterThan(5);
    expect((await verifyAuditChain(db)).problem).toBeUndefined();

    // Without A, everything still reads.
    installFieldCipher(cipherOf({ kB: keyB }, 'kB'));
    expect(await everything(db)).toEqual(before);

    // A second run finds nothing to do and writes nothing.
    const audits = (await db.select().from(auditLog)).length;
    const again = await rotateFieldKeys(db, { batchSize: 2 });
    expect(total(again, 'rowsChanged')).toBe(0);
    expect((await db.select().from(auditLog)).length).toBe(audits);

    // The chronology and the assessments are still append-only.
    await expect(db.execute(sql`update case_entries set data = '{}'::jsonb`)).rejects.toThrow();
    await expect(db.execute(sql`update triage_assessments set rationale = 'x'`)).rejects.toThrow();
  });

  it('stops with a clear error on a value under a key it does not have, keeping the batches before it', async () => {
    const db = await writtenUnderA();
    // A value sealed under a key nobody has any more.
    const lost = cipherOf({ kLost: randomBytes(32) }, 'kLost').encrypt('Unreadable', 'transfers.reason');
    await db.execute(sql`update transfers set reason = ${lost}`);

    installFieldCipher(cipherOf({ kA: keyA, kB: keyB }, 'kB'));
    const err = await rotateFieldKeys(db, { batchSize: 2 }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(FieldDecryptionError);
    expect((err as FieldDecryptionError).keyId).toBe('kLost');
    expect((err as Error).message).toMatch(/field-encryption key "kLost" is not configured.*transfers\.reason/);
    expect((err as Error).message).not.toContain('Unreadable');
    // Tables before transfers were finished and stay finished; the failing table's rows stay as they were.
    const ids = await storedKeyIds(db);
    expect(ids.get('kLost')).toBe(1);
    expect(ids.get('kB')).toBeGreaterThan(0);
  });
});

describe('npm run keys:rotate', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('rotates an embedded database and says what it did; a second run has nothing to do', { timeout: 120_000 }, async () => {
    t = await createTestDatabase('pglite', { persistent: true });
    const handle = await t.open();
    installFieldCipher(cipherOf({ kA: keyA }, 'kA'));
    const draft = await draftsRepo.createDraft(handle.db, {
      ownerAadObjectId: people.alex.aadObjectId,
      pathway: 'prevent',
      currentStep: 'concern',
      answers: { concern: { whatSeenOrHeard: 'Sealed under A', whenAndWhere: 'Also under A' } },
      now: clock,
    });
    await handle.close();

    const cli = async (keys: Record<string, Buffer>, current: string) => {
      const env = { ...process.env, DATABASE_URL: '', NODE_ENV: '', PGLITE_DATA_DIR: t!.dataDir!, ...envOf(keys, current) };
      try {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/rotate-keys.ts', '--batch', '10'], { env });
        return { code: 0, out: stdout };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, out: err.stdout + err.stderr };
      }
    };
    const first = await cli({ kA: keyA, kB: keyB }, 'kB');
    expect(first.code).toBe(0);
    expect(first.out).toContain('current key: kB; keys in the ring: kA, kB');
    expect(first.out).toContain('drafts: 1 rows read, 1 rewritten (2 values re-encrypted from an older key, 0 plain values encrypted)');
    expect(first.out).toContain('done: every value is now under key kB');
    const second = await cli({ kB: keyB }, 'kB');
    expect(second.code).toBe(0);
    expect(second.out).toContain('nothing to do: every value is under key kB');
    const missing = await cli({ kC: randomBytes(32) }, 'kC');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/keys:rotate stopped: field-encryption key "kB" is not configured/);

    const reopened = await t.open();
    installFieldCipher(cipherOf({ kB: keyB }, 'kB'));
    expect((await draftsRepo.getDraft(reopened.db, draft.id))?.answers.concern).toEqual({ whatSeenOrHeard: 'Sealed under A', whenAndWhere: 'Also under A' });
    await reopened.close();
  });
});
