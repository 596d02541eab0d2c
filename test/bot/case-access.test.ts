/**
 * Who may touch a case, over HTTP, for every command and every card verb.
 *
 * Proves: a referrer, an officer of the other area, an officer whose training
 * has lapsed, an analyst and someone not in the directory are refused every
 * officer command and verb — even with valid inputs and real ids taken from
 * the case's own buttons — with a card that names nobody; every refusal is
 * audited (one `…_denied` row with the actor's id); nothing in the case
 * tables changes; the audit chain still verifies. An allowed officer gets
 * `not_found` for unknown references and for ids forged from another case,
 * and malformed card data is answered with `invalid_input`. Finally the very
 * same inputs are accepted from the case's officer, so the refusals above
 * were about access only.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Harness, people, type Card, type TeamsUser } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { action, cardActions, cardInputs, cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { channelTriage, openCase, press, triage } from '../harness/officer.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { executeRows, type Database } from '../../src/db/client.js';

/** Friday 27 November 2026, 10:00 London (GMT). */
const clock = new Date('2026-11-27T10:00:00Z');

const FORBIDDEN = 'You do not have access to this';
const EXPIRED = 'Your Prevent training has expired';
const NOT_FOUND = 'That could not be found';
const INVALID = 'That request could not be read';
const UNKNOWN_REFERENCE = 'PRV-2026-999999';

/** Valid inputs for every case form, as the card would submit them (so only access can refuse them). */
const validInputs = {
  consent: { status: 'given', decidedOn: '2026-11-26', givenBy: 'parentCarer', parentCarerName: 'Pat Carer' },
  vulnerability: { assessedOn: '2026-11-20', engagement: '2', intent: '1', capability: '1', engagementFactors: 'identity' },
  intervention: { type: 'mentoring', provider: 'Northgate Mentoring', startOn: '2026-11-27', working: 'tooEarly' },
  interventionReview: { working: 'yes', note: 'Attending every week' },
  action: { title: 'Home visit', owner: people.megan.aadObjectId, dueOn: '2026-12-02' },
  actionComplete: { note: 'Visited; family supportive' },
  actionReassign: { owner: people.isaiah.aadObjectId },
  note: { text: 'Spoke to the school' },
  panel: { decision: 'adopted', decidedOn: '2026-11-26' },
  contact: { madeOn: '2026-11-25', method: 'phone' },
  close: { reason: 'riskReduced', note: 'Engaged well; risk reduced.' },
} as const satisfies Record<string, Record<string, string>>;
type FormId = keyof typeof validInputs;
const forms = Object.keys(validInputs) as FormId[];
const correction = { text: 'Spoke to the school office', correctionReason: 'More precise' };

/** Ids read from the cases' own buttons. */
interface Ids {
  intervention: string;
  action: string;
  note: string;
}

/** Every row of the tables a refused or forged request must not touch. */
async function snapshot(db: Database): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of ['triage_assessments', 'cases', 'case_entries', 'case_actions', 'referrals']) {
    out[table] = await executeRows(db, sql.raw(`select * from ${table} order by id`));
  }
  out.outbox = await executeRows(db, sql`select count(*)::int as n from outbox`);
  return out;
}

async function maxAuditSeq(db: Database): Promise<number> {
  const [row] = await executeRows<{ n: number }>(db, sql`select coalesce(max(seq), 0)::int as n from audit_log`);
  return row!.n;
}

async function auditAfter(db: Database, seq: number): Promise<Array<{ actor: string; action: string }>> {
  return executeRows(db, sql`select actor_aad_object_id as actor, action from audit_log where seq > ${seq} order by seq`);
}

/** The buttons on a card that would reach case data. */
const caseVerbs = (card: Card): string[] =>
  cardActions(card)
    .map((a) => a.verb ?? String(a.data?.verb ?? ''))
    .filter((v) => /^(referral|triage|case)\./.test(v));

describe.each(testDatabases())('case access on %s', (kind) => {
  let db: TestDatabase;
  let h: Harness;
  let reference: string; // Northgate, triaged to Channel by Megan: a case with an intervention, an action and a note
  let pending: string; // Northgate, not yet triaged
  let otherReference: string; // another Northgate case, whose ids are used as forgeries
  let southbridge: string; // Adele's own area
  let ids: Ids;
  let other: Omit<Ids, 'intervention'>;
  let before: Record<string, unknown[]>;

  /** Adds an intervention, an action and a note through Megan's cards; returns their ids from the buttons. */
  async function workCase(ref: string): Promise<Ids> {
    const megan = h.user('megan');
    let card = await openCase(megan, ref);
    card = await press(megan, card, 'Add intervention');
    card = await press(megan, card, 'Save', validInputs.intervention);
    expect(cardText(card)).toContain('Intervention added.');
    card = await press(megan, card, 'Add action');
    card = await press(megan, card, 'Save', validInputs.action);
    expect(cardText(card)).toContain('Action added.');
    card = await press(megan, card, 'Add note');
    card = await press(megan, card, 'Save', { text: 'Spoke to the scool' });
    expect(cardText(card)).toContain('Note added.');
    const intervention = action(card, 'Update').data?.subject;
    const act = action(card, 'Complete').data?.subject;
    const chron = await press(megan, card, 'Chronology');
    // Newest first: the note is the first correctable entry. Check by opening its correction form.
    const note = action(chron, 'Correct').data?.entry;
    expect(typeof intervention).toBe('string');
    expect(typeof act).toBe('string');
    expect(typeof note).toBe('string');
    const fix = await megan.execute('case.correct', { reference: ref, entry: note });
    expect(cardInputs(fix).find((i) => i.id === 'text')?.value).toBe('Spoke to the scool');
    return { intervention: intervention as string, action: act as string, note: note as string };
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    h = await Harness.start({ database: await db.open(), now: () => clock });
    const alex = h.user('alex');
    // Proactive messages go out in the background after a commit: let each batch land before the next
    // message, so none arrives in a chat between a message and its reply.
    const submit = async (answers = validAnswers()) => {
      const { reference: r } = await submitReferral(alex, answers);
      await h.deliverOutbox();
      return r;
    };
    reference = await submit();
    otherReference = await submit();
    pending = await submit();
    southbridge = await submit(validAnswers({ aboutPerson: { area: 'southbridge', firstName: 'Robin' } }));
    for (const r of [reference, otherReference]) {
      expect(cardText(await triage(h.user('megan'), r, channelTriage))).toContain('A case is open with you as its owner');
      await h.deliverOutbox();
    }
    ids = await workCase(reference);
    const o = await workCase(otherReference);
    other = { action: o.action, note: o.note };
    await h.deliverOutbox();
    before = await snapshot(h.service.database.db);
    // The snapshot has something in it to compare.
    expect(before.referrals).toHaveLength(4);
    expect(before.triage_assessments).toHaveLength(2);
    expect(before.cases).toHaveLength(2);
    expect(before.case_actions).toHaveLength(2);
    expect(before.case_entries).toHaveLength(8); // per case: opened, intervention, action, note
  });

  afterAll(async () => {
    await h.stop();
    await h.service.database.close();
    await db.drop();
  });

  /** Every officer command and verb against the Northgate case, with real ids and valid inputs. */
  function attempts(): Array<{ what: string; run: (u: TeamsUser) => Promise<Card> }> {
    const say = (text: string) => async (u: TeamsUser) => {
      const cards = await u.say(text);
      expect(cards, text).toHaveLength(1);
      return cards[0]!;
    };
    const exec = (verb: string, data: Record<string, unknown>) => (u: TeamsUser) => u.execute(verb, data);
    const subject = (form: FormId): Record<string, string> =>
      form === 'interventionReview' ? { subject: ids.intervention } : form === 'actionComplete' || form === 'actionReassign' ? { subject: ids.action } : {};
    return [
      { what: 'queue', run: say('queue') },
      { what: 'cases', run: say('cases') },
      { what: `case ${reference}`, run: say(`case ${reference}`) },
      { what: `case ${pending}`, run: say(`case ${pending}`) },
      { what: 'referral.open', run: exec('referral.open', { reference }) },
      { what: 'referral.view', run: exec('referral.view', { reference }) },
      { what: 'triage.start', run: exec('triage.start', { reference }) },
      { what: 'triage.start (untriaged)', run: exec('triage.start', { reference: pending }) },
      { what: 'triage.submit', run: exec('triage.submit', { reference, ...channelTriage }) },
      { what: 'triage.submit (untriaged)', run: exec('triage.submit', { reference: pending, ...channelTriage }) },
      { what: 'case.open', run: exec('case.open', { reference }) },
      ...forms.map((form) => ({ what: `case.form ${form}`, run: exec('case.form', { reference, form, ...subject(form) }) })),
      ...forms.map((form) => ({ what: `case.submit ${form}`, run: exec('case.submit', { reference, form, ...subject(form), ...validInputs[form] }) })),
      { what: 'case.submit correction', run: exec('case.submit', { reference, form: 'note', corrects: ids.note, ...correction }) },
      { what: 'case.correct', run: exec('case.correct', { reference, entry: ids.note }) },
      { what: 'case.chronology', run: exec('case.chronology', { reference, page: '0' }) },
    ];
  }

  const refused = [
    { who: 'alex', expected: FORBIDDEN, note: 'a referrer' },
    { who: 'adele', expected: FORBIDDEN, note: 'an officer of the other area' },
    { who: 'lynne', expected: EXPIRED, note: 'an officer of the area whose training has expired' },
    { who: 'patti', expected: FORBIDDEN, note: 'an analyst' },
    { who: 'stranger', expected: FORBIDDEN, note: 'someone not in the directory' },
  ] as const;

  it.each(refused)('refuses $who ($note) every command and verb, names nobody, and audits each refusal', async ({ who, expected }) => {
    const user = h.user(who);
    const base = h.service.database.db;
    let tried = 0;
    for (const a of attempts()) {
      // Adele is an officer: her own queue and case list are hers to see (checked below), not a refusal.
      if (who === 'adele' && (a.what === 'queue' || a.what === 'cases')) continue;
      const seq = await maxAuditSeq(base);
      const card = await a.run(user);
      const text = cardText(card);
      expect(text, `${who}: ${a.what}`).toContain(expected);
      for (const secret of ['Jordan', 'Testperson', 'Megan Bowen', 'Northgate Academy']) expect(text, `${who}: ${a.what}`).not.toContain(secret);
      expect(caseVerbs(card), `${who}: ${a.what}`).toEqual([]);
      const audited = await auditAfter(base, seq);
      expect(audited, `${who}: ${a.what}`).toHaveLength(1);
      expect(audited[0]!.actor, `${who}: ${a.what}`).toBe(people[who].aadObjectId);
      expect(audited[0]!.action, `${who}: ${a.what}`).toMatch(/_denied$/);
      tried += 1;
    }
    expect(tried).toBe(who === 'adele' ? attempts().length - 2 : attempts().length);
  });

  it('gives people with no case role the same card whether or not the reference exists', async () => {
    for (const who of ['alex', 'patti', 'stranger', 'lynne'] as const) {
      const [known] = await h.user(who).say(`case ${reference}`);
      const [unknown] = await h.user(who).say(`case ${UNKNOWN_REFERENCE}`);
      expect(unknown, who).toEqual(known);
      expect(await h.user(who).execute('case.open', { reference: UNKNOWN_REFERENCE }), who).toEqual(await h.user(who).execute('case.open', { reference }));
    }
  });

  it("shows Adele (Southbridge) her own queue and case list, without the Northgate referrals", async () => {
    const [queue] = await h.user('adele').say('queue');
    const [cases] = await h.user('adele').say('cases');
    for (const card of [queue!, cases!]) {
      const text = cardText(card);
      for (const ref of [reference, pending, otherReference]) expect(text).not.toContain(ref);
      expect(text).not.toContain('Jordan');
      expect(text).not.toContain(FORBIDDEN);
    }
    expect(cardText(queue!)).toContain('Showing 1 of 1');
    expect(cardText(queue!)).toContain(southbridge);
    expect(cardText(cases!)).toContain('You have no open cases.');
  });

  it('after the whole matrix, nothing in the case tables has changed, the case is still open, and the audit chain verifies', async () => {
    const base = h.service.database.db;
    expect(await snapshot(base)).toEqual(before);
    const [c] = await executeRows<{ status: string }>(
      base,
      sql`select c.status from cases c join referrals r on r.id = c.referral_id where r.reference = ${reference}`,
    );
    expect(c?.status).toBe('open');
    const [t] = await executeRows<{ n: number }>(base, sql`select count(*)::int as n from triage_assessments t join referrals r on r.id = t.referral_id where r.reference = ${pending}`);
    expect(t?.n).toBe(0);
    // At least one denial per refused attempt, each by the person refused.
    const denied = await executeRows<{ actor: string; n: number }>(
      base,
      sql`select actor_aad_object_id as actor, count(*)::int as n from audit_log where action like '%\_denied' group by actor_aad_object_id`,
    );
    const byActor = new Map(denied.map((d) => [d.actor, d.n]));
    const perActor = attempts().length;
    for (const { who } of refused) expect(byActor.get(people[who].aadObjectId) ?? 0, who).toBeGreaterThanOrEqual(who === 'adele' ? perActor - 2 : perActor);
    expect(byActor.has(people.megan.aadObjectId)).toBe(false);
    expect((await verifyAuditChain(base)).problem).toBeUndefined();
  });

  it('tells an allowed officer that a well-formed but unknown reference (or a referral without a case) could not be found', async () => {
    const megan = h.user('megan');
    const r = UNKNOWN_REFERENCE;
    const cards: Array<[string, Card]> = [
      ['case command', (await megan.say(`case ${r}`))[0]!],
      ['referral.open', await megan.execute('referral.open', { reference: r })],
      ['referral.view', await megan.execute('referral.view', { reference: r })],
      ['triage.start', await megan.execute('triage.start', { reference: r })],
      ['triage.submit', await megan.execute('triage.submit', { reference: r, ...channelTriage })],
      ['case.open', await megan.execute('case.open', { reference: r })],
      ['case.form', await megan.execute('case.form', { reference: r, form: 'note' })],
      ['case.submit', await megan.execute('case.submit', { reference: r, form: 'note', ...validInputs.note })],
      ['case.correct', await megan.execute('case.correct', { reference: r, entry: ids.note })],
      ['case.chronology', await megan.execute('case.chronology', { reference: r, page: '0' })],
      // The pending referral exists but has no case yet.
      ['case.open (no case)', await megan.execute('case.open', { reference: pending })],
      ['case.form (no case)', await megan.execute('case.form', { reference: pending, form: 'note' })],
      ['case.submit (no case)', await megan.execute('case.submit', { reference: pending, form: 'note', ...validInputs.note })],
      ['case.chronology (no case)', await megan.execute('case.chronology', { reference: pending, page: '0' })],
    ];
    for (const [what, card] of cards) expect(cardText(card), what).toContain(NOT_FOUND);
    expect(await snapshot(h.service.database.db)).toEqual(before);
  });

  it('answers forged ids (a random subject, another case’s action or entry) with not_found and changes nothing', async () => {
    const megan = h.user('megan');
    const random = randomUUID();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['case.form', { reference, form: 'actionComplete', subject: random }],
      ['case.form', { reference, form: 'actionReassign', subject: random }],
      ['case.form', { reference, form: 'interventionReview', subject: random }],
      ['case.form', { reference, form: 'actionComplete', subject: other.action }],
      ['case.form', { reference, form: 'actionReassign', subject: other.action }],
      ['case.form', { reference, form: 'interventionReview', subject: ids.action }], // an action is not an intervention
      ['case.submit', { reference, form: 'actionComplete', subject: random, ...validInputs.actionComplete }],
      ['case.submit', { reference, form: 'actionComplete', subject: other.action, ...validInputs.actionComplete }],
      ['case.submit', { reference, form: 'actionReassign', subject: other.action, ...validInputs.actionReassign }],
      ['case.submit', { reference, form: 'interventionReview', subject: random, ...validInputs.interventionReview }],
      ['case.submit', { reference, form: 'actionComplete', ...validInputs.actionComplete }], // no subject at all
      ['case.correct', { reference, entry: random }],
      ['case.correct', { reference, entry: other.note }],
      ['case.submit', { reference, form: 'note', corrects: random, ...correction }],
      ['case.submit', { reference, form: 'note', corrects: other.note, ...correction }],
      // The other way round: this case's ids under the other case's reference.
      ['case.submit', { reference: otherReference, form: 'actionComplete', subject: ids.action, ...validInputs.actionComplete }],
      ['case.correct', { reference: otherReference, entry: ids.note }],
    ];
    for (const [verb, data] of cases) {
      const card = await megan.execute(verb, data);
      expect(cardText(card), `${verb} ${JSON.stringify(data)}`).toContain(NOT_FOUND);
    }
    expect(await snapshot(h.service.database.db)).toEqual(before);
  });

  it('answers malformed card data with invalid_input and changes nothing', async () => {
    const megan = h.user('megan');
    const cases: Array<[string, Record<string, unknown>]> = [
      ['case.form', { reference, form: 'bogus' }],
      ['case.form', { reference, form: 'triage' }], // the triage form is not a case form
      ['case.submit', { reference, form: 'correction', ...correction }],
      ['case.submit', { reference, form: 'bogus', ...validInputs.note }],
      ['case.form', { reference: 'PRV-26-1', form: 'note' }],
      ['case.open', { reference: 'not a reference' }],
      ['case.open', { reference: `${reference}; drop table cases` }],
      ['case.open', {}],
      ['referral.open', { reference: 42 }],
      ['case.form', { reference, form: 'actionComplete', subject: 'not-a-uuid' }],
      ['case.correct', { reference, entry: 'nope' }],
      ['case.chronology', { reference, page: 'abc' }],
      ['case.chronology', { reference, page: '-1' }],
      // A note's id sent as a correction of a consent: the kinds differ.
      ['case.submit', { reference, form: 'consent', corrects: ids.note, ...validInputs.consent, correctionReason: 'x' }],
    ];
    for (const [verb, data] of cases) {
      const card = await megan.execute(verb, data);
      expect(cardText(card), `${verb} ${JSON.stringify(data)}`).toContain(INVALID);
    }
    expect(await snapshot(h.service.database.db)).toEqual(before);
  });

  // Runs last: it changes the case.
  it('accepts the very same inputs from the case’s officer (so the refusals were about access only)', async () => {
    const megan = h.user('megan');
    const submit = (form: FormId, extra: Record<string, string> = {}) => megan.execute('case.submit', { reference, form, ...extra, ...validInputs[form] });
    expect(cardText(await megan.execute('triage.submit', { reference: pending, ...channelTriage }))).toContain('Gateway assessment saved');
    expect(cardText(await submit('consent'))).toContain('Consent updated.');
    expect(cardText(await submit('vulnerability'))).toContain('Vulnerability assessment recorded.');
    expect(cardText(await submit('intervention'))).toContain('Intervention added.');
    expect(cardText(await submit('interventionReview', { subject: ids.intervention }))).toContain('Intervention updated.');
    expect(cardText(await submit('action'))).toContain('Action added.');
    expect(cardText(await submit('actionReassign', { subject: ids.action }))).toContain('Action reassigned.');
    expect(cardText(await submit('actionComplete', { subject: ids.action }))).toContain('Action completed.');
    expect(cardText(await submit('note'))).toContain('Note added.');
    expect(cardText(await submit('panel'))).toContain('Panel decision recorded.');
    expect(cardText(await submit('contact'))).toContain('Contact recorded.');
    expect(cardText(await megan.execute('case.submit', { reference, form: 'note', corrects: ids.note, ...correction }))).toContain('Correction saved.');
    expect(cardText(await submit('close'))).toContain('Case closed.');
    expect((await verifyAuditChain(h.service.database.db)).problem).toBeUndefined();
  });
});
