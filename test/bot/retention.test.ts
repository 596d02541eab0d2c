/**
 * Retention reviews and deletion over HTTP (DESIGN §7): the review falls due
 * by the pathway's policy, the owner is reminded, keeps the record or
 * proposes deletion, a supervisor approves inline, and the purge leaves
 * nothing of the person in any column of any table — only the de-identified
 * statistics (unchanged) and an audit trail that still verifies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { Harness, people } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { cardActions, cardText, fieldErrors } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { channelTriage, press, triage } from '../harness/officer.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { auditLog, deletionRequests, outbox, referralStatistics, referrals } from '../../src/db/schema.js';
import { executeRows } from '../../src/db/client.js';

/** Monday 30 November 2026, 10:00 London. */
let clock = new Date('2026-11-30T10:00:00Z');

/** A value in every field of the person's record that nothing else in the database could contain. */
const distinct = {
  referrerName: 'Referrer Qzxv Amberlight',
  jobTitle: 'Qzxv Jobtitle Pelican',
  organisation: 'Qzxv Organisation Marrowbeck',
  phone: '07700 913377',
  relationship: 'Qzxv Relationship Tutor',
  firstName: 'Zephyrine',
  lastName: 'Quillfeather',
  dateOfBirth: '2009-02-27',
  address: '77 Qzxv Xylophone Crescent',
  postcode: 'ZE9 9QX',
  schoolOrEmployer: 'Qzxv Heronsgate College',
  firstLanguage: 'Qzxv Language',
  whatSeenOrHeard: 'Qzxv concern narrative about the lighthouse',
  whenAndWhere: 'Qzxv when-and-where at the boathouse',
  onlineActivity: 'Qzxv online activity on the forum',
  contactsOfConcern: 'Qzxv contacts of concern Bramblecote',
  discussionsHeld: 'Qzxv discussions held with the family',
  agencyDetails: 'Qzxv agency details Fernhill',
  rationale: 'Qzxv triage rationale about the threshold',
  parentCarerName: 'Qzxv Parentcarer Oakhurst',
  consentNote: 'Qzxv consent note',
  vulnerabilityNotes: 'Qzxv vulnerability notes',
  provider: 'Qzxv Mentoring Provider Ltd',
  interventionNote: 'Qzxv intervention note',
  actionTitle: 'Qzxv action title home visit',
  note: 'Qzxv case note about the youth club',
  contactNote: 'Qzxv contact note',
  transferReason: 'Qzxv transfer reason moved to Eastfield',
  newAddress: '12 Qzxv Orchard Row, Eastfield',
  acceptNote: 'Qzxv accept note',
  justification: 'Qzxv access justification about risk',
  retainJustification: 'Qzxv retain justification',
  deletionReason: 'Qzxv deletion reason no longer needed',
} as const;

/**
 * The demo directory, with everyone's training in date for the years these
 * tests move through (reviews fall due 3 and 6 years on).
 */
function longTrainedDirectory(): string {
  const demo = JSON.parse(readFileSync(new URL('../../src/demo/directory.json', import.meta.url), 'utf8')) as { people: Array<{ trainedUntil?: string }> };
  for (const p of demo.people) if (p.trainedUntil && p.trainedUntil > '2026-01-01') p.trainedUntil = '2099-12-31';
  const file = join(mkdtempSync(join(tmpdir(), 'sgd-dir-')), 'directory.json');
  writeFileSync(file, JSON.stringify(demo));
  return file;
}

describe.each(testDatabases())('retention and deletion on %s', (kind) => {
  let testDb: TestDatabase;
  let h: Harness;
  const directoryFile = longTrainedDirectory();
  beforeEach(async () => {
    clock = new Date('2026-11-30T10:00:00Z');
    testDb = await createTestDatabase(kind);
    h = await Harness.start({ database: await testDb.open(), now: () => clock, env: { DIRECTORY_FILE: directoryFile } });
  });
  afterEach(async () => {
    await h.stop();
    await h.service.database.close();
    await testDb.drop();
  });
  const db = () => h.service.database.db;

  async function install() {
    for (const who of ['alex', 'megan', 'isaiah', 'nestor', 'grady', 'johanna', 'lidia'] as const) await h.user(who).install();
  }

  /** Every text, json and bytea column of every table, as (table, column). */
  async function textColumns(): Promise<Array<{ table: string; column: string }>> {
    const rows = await executeRows<{ table_name: string; column_name: string }>(
      db(),
      sql`select table_name, column_name from information_schema.columns
          where table_schema = 'public' and data_type in ('text', 'character varying', 'jsonb', 'json', 'bytea', 'date')
          order by table_name, column_name`,
    );
    return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
  }

  /** Where each distinctive value still appears: "table.column: value". */
  async function scan(values: readonly string[]): Promise<string[]> {
    const hits: string[] = [];
    for (const { table, column } of await textColumns()) {
      for (const value of values) {
        const [row] = await executeRows<{ n: number }>(
          db(),
          sql`select count(*)::int as n from ${sql.identifier(table)} where ${sql.identifier(column)}::text ilike ${`%${value}%`}`,
        );
        if (Number(row?.n) > 0) hits.push(`${table}.${column}: ${value}`);
      }
    }
    return hits;
  }

  const statistics = async () =>
    (await db().select().from(referralStatistics)).map(({ referralId: _id, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));

  it('runs the whole life, purges on approval, and leaves no trace of the person anywhere', async () => {
    await install();
    const answers = validAnswers({
      aboutYou: { referrerName: distinct.referrerName, jobTitle: distinct.jobTitle, organisation: distinct.organisation, phone: distinct.phone, relationship: distinct.relationship },
      aboutPerson: {
        firstName: distinct.firstName,
        lastName: distinct.lastName,
        dateOfBirth: distinct.dateOfBirth,
        address: distinct.address,
        postcode: distinct.postcode,
        schoolOrEmployer: distinct.schoolOrEmployer,
        firstLanguage: distinct.firstLanguage,
      },
      concern: {
        whatSeenOrHeard: distinct.whatSeenOrHeard,
        whenAndWhere: distinct.whenAndWhere,
        onlineActivity: distinct.onlineActivity,
        contactsOfConcern: distinct.contactsOfConcern,
        discussionsHeld: distinct.discussionsHeld,
      },
      consent: { agencyDetails: distinct.agencyDetails },
    });
    // Another person's referral stays untouched by the purge.
    const other = await submitReferral(h.user('alex'));
    const { reference } = await submitReferral(h.user('alex'), answers);
    await triage(h.user('megan'), reference, { ...channelTriage, rationale: distinct.rationale });
    const megan = h.user('megan');
    const submit = (form: string, inputs: Record<string, string>) => megan.execute('case.submit', { reference, form, ...inputs });
    await submit('consent', { status: 'given', decidedOn: '2026-11-30', givenBy: 'parentCarer', parentCarerName: distinct.parentCarerName, note: distinct.consentNote });
    await submit('vulnerability', { assessedOn: '2026-11-30', engagement: '2', intent: '1', capability: '1', notes: distinct.vulnerabilityNotes });
    await submit('intervention', { type: 'mentoring', provider: distinct.provider, startOn: '2026-11-30', working: 'tooEarly', note: distinct.interventionNote });
    await submit('action', { title: distinct.actionTitle, owner: people.megan.aadObjectId, dueOn: '2026-12-01' });
    await submit('note', { text: distinct.note });
    await submit('contact', { madeOn: '2026-11-30', method: 'phone', note: distinct.contactNote });
    // A reminder of the action goes out (its payload names the case).
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    // Transfer to Eastfield, accepted for Johanna.
    await submit('transfer', { toArea: 'eastfield', reason: distinct.transferReason, newAddress: distinct.newAddress });
    await h.deliverOutbox();
    const [transfer] = await executeRows<{ id: string }>(db(), sql`select id from transfers`);
    await h.user('nestor').execute('transfer.accept', { id: transfer!.id, newOwner: people.johanna.aadObjectId, note: distinct.acceptNote });
    // A partner asks for access, and Eastfield grants it.
    const found = await h.user('lidia').execute('access.find', { reference, lastName: '', dateOfBirth: '' });
    const record = String(cardActions(found).find((a) => a.verb === 'access.submit')!.data!.record);
    const sent = await h.user('lidia').execute('access.submit', { record, purpose: 'safeguardingRisk', justification: distinct.justification, scopes: 'summary', days: '7' });
    const requestId = String(cardActions(sent).find((a) => a.verb === 'access.withdraw')!.data!.id);
    await h.user('grady').execute('access.grant', { id: requestId, note: '' });
    await h.deliverOutbox();
    const before = await statistics();
    expect(before).toHaveLength(2);
    // The values are there before the purge (so the scan can find them).
    const present = await scan(Object.values(distinct).filter((v) => v !== distinct.retainJustification && v !== distinct.deletionReason));
    expect(present.some((hit) => hit.startsWith('referrals.answers'))).toBe(true);

    // Six years after the last activity the review falls due; Johanna (the owner) is reminded once.
    clock = new Date('2032-12-01T10:00:00Z');
    await h.service.sweeper.runOnce();
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    const queued = await db().select().from(outbox).where(eq(outbox.kind, 'retention.review'));
    expect(queued.filter((m) => (m.payload as { reference?: string }).reference === reference).map((m) => m.recipientAadObjectId)).toEqual([people.johanna.aadObjectId]);
    // The other referral, never triaged, has no owner: Northgate's supervisor is reminded of it.
    expect(queued.filter((m) => (m.payload as { reference?: string }).reference === other.reference).map((m) => m.recipientAadObjectId)).toEqual([people.isaiah.aadObjectId]);
    const [due] = await h.user('johanna').say('reviews');
    expect(cardText(due!)).toContain(reference);
    expect(cardText(due!)).not.toContain(other.reference);

    // Keep it once, with a reason and a date at most two years on.
    let review = await press(h.user('johanna'), due!, 'Open review');
    expect(cardText(review)).toContain('Kept under the pathway’s policy');
    expect(cardText(review)).toMatch(/A Channel case, open: \d+ chronology entries/);
    let form = await press(h.user('johanna'), review, 'Keep');
    const tooLate = await press(h.user('johanna'), form, 'Keep', { justification: distinct.retainJustification, nextReviewOn: '2035-12-01' });
    expect(fieldErrors(tooLate).nextReviewOn).toContain('at most 2 years');
    review = await press(h.user('johanna'), form, 'Keep', { justification: distinct.retainJustification, nextReviewOn: '2033-06-01' });
    expect(cardText(review)).toContain('Kept. Next review 1 Jun 2033.');
    expect(cardText(review)).toContain(distinct.retainJustification);

    // Before any purge a supervisor of the area can export everything held (subject access), once per link.
    expect(cardText(await h.user('johanna').execute('retention.export', { reference }))).toContain('You do not have access');
    const exportCard = await h.user('grady').execute('retention.export', { reference });
    const url = String((exportCard.actions as Array<{ type: string; url?: string }>).find((a) => a.type === 'Action.OpenUrl')!.url);
    expect(url).toMatch(/\/exports\/[^/]+\.json$/);
    const file = await fetch(url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toContain(`${reference}-subject-access.json`);
    const exported = (await file.json()) as Record<string, unknown>;
    for (const value of [distinct.whatSeenOrHeard, distinct.note, distinct.transferReason, distinct.justification, distinct.retainJustification]) {
      expect(JSON.stringify(exported)).toContain(value);
    }
    expect((await fetch(url)).status).toBe(410);
    // An export link is no statistics link (and trying it there does not spend it).
    const second = await h.user('grady').execute('retention.export', { reference });
    const secondUrl = String((second.actions as Array<{ type: string; url?: string }>).find((a) => a.type === 'Action.OpenUrl')!.url);
    expect((await fetch(secondUrl.replace('/exports/', '/stats/').replace(/\.json$/, '.csv'))).status).toBe(404);
    expect((await fetch(secondUrl)).status).toBe(200);
    expect(await db().select().from(auditLog).where(eq(auditLog.action, 'record.export'))).toHaveLength(2);

    // At the next review she proposes deletion; Grady approves it.
    clock = new Date('2033-06-02T10:00:00Z');
    review = await h.user('johanna').execute('retention.open', { reference });
    form = await press(h.user('johanna'), review, 'Propose deletion');
    const proposed = await press(h.user('johanna'), form, 'Propose deletion', { reason: distinct.deletionReason });
    expect(cardText(proposed)).toContain('Deletion proposed');
    expect(cardActions(proposed).map((a) => a.title)).toContain('Withdraw proposal');
    await h.deliverOutbox();
    const gradyCard = h.connector.cardsIn(h.user('grady').conversationId).filter((c) => cardText(c).includes(`Deletion of ${reference}`)).at(-1)!;
    expect(cardActions(gradyCard).map((a) => a.title)).toEqual(['Approve deletion', 'Keep the record', 'Open review']);
    // Nobody approves their own proposal; another area's supervisor cannot.
    const id = String(cardActions(gradyCard)[0]!.data!.id);
    expect(cardText(await h.user('johanna').execute('deletion.approve', { id, note: '' }))).toContain('You asked for this yourself');
    expect(cardText(await h.user('isaiah').execute('deletion.approve', { id, note: '' }))).toContain('You do not have access');
    const approved = await press(h.user('grady'), gradyCard, 'Approve deletion');
    expect(cardText(approved)).toContain('The record has been deleted');
    expect(cardActions(approved).filter((a) => a.title === 'Approve deletion')).toHaveLength(0);
    // A second press, or Nestor's copy, changes nothing.
    expect(cardText(await h.user('nestor').execute('deletion.approve', { id, note: '' }))).toContain('Already decided: approved by Grady Archie');
    await h.deliverOutbox();

    // Nothing of the person is left in any column of any table.
    expect(await scan(Object.values(distinct))).toEqual([]);
    expect(await db().select().from(referrals).where(eq(referrals.reference, reference))).toHaveLength(0);
    expect(await db().select().from(referrals).where(eq(referrals.reference, other.reference))).toHaveLength(1);
    // What remains: the same statistics, and an audit trail that still verifies.
    expect(await statistics()).toEqual(before);
    const chain = await verifyAuditChain(db());
    expect(chain.problem).toBeUndefined();
    expect(chain.entries).toBeGreaterThan(20);
    const [kept] = await db().select().from(deletionRequests);
    expect(kept).toMatchObject({ reference, status: 'approved', reason: null, referralId: null });
    // The record is gone for everyone: officers, the grant holder.
    expect(cardText((await h.user('johanna').say(`case ${reference}`)).at(-1)!)).toContain('could not be found');
    expect(cardText(await h.user('lidia').execute('access.view', { id: requestId }))).toContain('You do not have access');
  });

  it('keeps a record about a young child only with a specific reason, and reminds the supervisors when the owner has gone', async () => {
    await install();
    const { reference } = await submitReferral(h.user('alex'), validAnswers({ aboutPerson: { dateOfBirth: '2019-06-01' } }));
    await triage(h.user('megan'), reference, { outcome: 'no_further_action', rationale: 'Below the threshold.', contactMade: 'no' });
    // Closed with no further action: reviewed 3 years after closure, not 6.
    clock = new Date('2029-11-29T10:00:00Z');
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    expect(h.connector.cardsIn(h.user('isaiah').conversationId).filter((c) => cardText(c).includes(`Review ${reference}`))).toHaveLength(0);
    clock = new Date('2029-12-01T10:00:00Z');
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    // No case, so no owner: the area's supervisors are reminded.
    const reminder = h.connector.cardsIn(h.user('isaiah').conversationId).filter((c) => cardText(c).includes(`Review ${reference}`));
    expect(reminder).toHaveLength(1);
    const review = await press(h.user('isaiah'), reminder[0]!, 'Open review');
    expect(cardText(review)).toContain('about a child under 10');
    const form = await press(h.user('isaiah'), review, 'Keep');
    const missing = await press(h.user('isaiah'), form, 'Keep', { justification: 'Sibling case open.', nextReviewOn: '2030-12-01', childJustification: '' });
    expect(fieldErrors(missing).childJustification).toContain('specific reason');
    const kept = await press(h.user('isaiah'), form, 'Keep', { justification: 'Sibling case open.', nextReviewOn: '2030-12-01', childJustification: 'Linked to an open sibling case.' });
    expect(cardText(kept)).toContain('Kept. Next review 1 Dec 2030.');
    // Referrers and other areas cannot see reviews.
    expect(cardText((await h.user('alex').say('reviews')).at(-1)!)).toContain('You do not have access');
    expect(cardText(await h.user('johanna').execute('retention.open', { reference }))).toContain('You do not have access');
  });
});
