/**
 * Two officers pressing Save on the same thing at the same moment, over HTTP.
 *
 * Proves that the database, not a read-then-write in the code, decides who
 * wins: one gateway assessment per referral (and at most one case), one
 * closure per case (with exactly two Channel reviews), one completion per
 * action, one correction per entry — and the loser is told, by a card, that
 * someone else got there first. Also that a correction leaves the original
 * entry byte-for-byte as it was, and that the database itself refuses an
 * UPDATE of a chronology entry or a gateway assessment.
 *
 * To make every race a real one, the test holds each request at the door of
 * its write transaction until both requests have got there (`race()` below):
 * both have already read the record as it was before either wrote, so the
 * pre-checks in the code cannot settle it — only the conditional statements
 * (unique index, `where status = 'open'`) can.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Harness, people, type Card } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { action, cardText } from '../harness/cards.js';
import { submitReferral } from '../harness/referral.js';
import { channelTriage, openCase, press, triage } from '../harness/officer.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { executeRows, type Database } from '../../src/db/client.js';
import { gateTransactions } from '../harness/race.js';
import { fieldCipher, isEncrypted } from '../../src/db/field-crypto.js';

/** Friday 27 November 2026, 10:00 London (GMT). */
const clock = new Date('2026-11-27T10:00:00Z');

async function rows<T extends Record<string, unknown>>(db: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  return executeRows<T>(db, query);
}

/** Narrative text is sealed at rest: opens the named columns of raw rows, each for the place it was sealed for. */
function opened<T extends Record<string, unknown>>(list: T[], places: Partial<Record<keyof T & string, string>>): T[] {
  return list.map((r) => {
    const out: Record<string, unknown> = { ...r };
    for (const [column, place] of Object.entries(places)) {
      expect(isEncrypted(r[column]), `${column} is sealed`).toBe(true);
      out[column] = fieldCipher().decrypt(String(r[column]), String(place));
    }
    return out as T;
  });
}

/** The messages of an error and its causes (drizzle wraps the driver's error). */
function messages(err: unknown): string {
  const out: string[] = [];
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) out.push(String((e as Error).message ?? e));
  return out.join(' | ');
}

describe.each(testDatabases())('concurrent case work on %s', (kind) => {
  let db: TestDatabase;
  let h: Harness;
  let race: ReturnType<typeof gateTransactions>;
  let base: Database;
  beforeEach(async () => {
    db = await createTestDatabase(kind);
    const handle = await db.open();
    race = gateTransactions(handle);
    h = await Harness.start({ database: handle, now: () => clock });
    base = h.service.database.db;
  });
  afterEach(async () => {
    await h.stop();
    await h.service.database.close();
    await db.drop();
  });

  /**
   * A fresh referral from Alex. Proactive messages (the officers' notice, the
   * referrer's status) are delivered in the background after a commit; wait
   * for them, so they cannot land in a chat between a message and its reply.
   */
  async function newReferral(): Promise<string> {
    const { reference } = await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    return reference;
  }

  /** A Channel case owned by Megan, opened on a fresh referral. */
  async function channelCase(): Promise<{ reference: string; card: Card }> {
    const reference = await newReferral();
    const card = await triage(h.user('megan'), reference, channelTriage);
    expect(cardText(card)).toContain('A case is open with you as its owner');
    await h.deliverOutbox();
    return { reference, card };
  }

  it('lets exactly one of two simultaneous gateway assessments win, five times over, and tells the loser who won', async () => {
    const outcomes = [
      { megan: 'channel', isaiah: 'no_further_action' },
      { megan: 'no_further_action', isaiah: 'channel' },
      { megan: 'channel', isaiah: 'police_led' },
      { megan: 'signposted', isaiah: 'channel' },
      { megan: 'no_further_action', isaiah: 'ct_policing' },
    ] as const;
    for (const [round, o] of outcomes.entries()) {
      const reference = await newReferral();
      const inputs = (outcome: string) => ({ reference, outcome, rationale: `Round ${round}: ${outcome}`, contactMade: 'yes', ...(outcome === 'signposted' ? { signpostedTo: 'CAMHS' } : {}) });
      // Alternate who sends first, so the same officer does not win every round by arriving first.
      const send = (who: 'megan' | 'isaiah') => h.user(who).execute('triage.submit', inputs(o[who]));
      const [m, i] = await race(2, () =>
        round % 2 === 0 ? Promise.all([send('megan'), send('isaiah')]) : Promise.all([send('isaiah'), send('megan')]).then(([x, y]) => [y, x] as const),
      );
      const replies = [
        { who: 'megan' as const, outcome: o.megan, text: cardText(m) },
        { who: 'isaiah' as const, outcome: o.isaiah, text: cardText(i) },
      ];
      const won = replies.filter((r) => r.text.includes('Gateway assessment saved'));
      const lost = replies.filter((r) => r.text.includes('recorded the gateway assessment on'));
      expect(won, `round ${round}: ${replies.map((r) => r.text).join('\n---\n')}`).toHaveLength(1);
      expect(lost, `round ${round}`).toHaveLength(1);
      const winner = won[0]!;
      const loser = lost[0]!;
      expect(loser.text).toContain(`${people[winner.who].name} recorded the gateway assessment on`);
      expect(loser.text).toContain('Your assessment was not saved.');
      expect(loser.text).not.toContain('Gateway assessment saved');

      // The database holds the winner's assessment, and only it.
      const triages = opened(
        await rows<{ outcome: string; by: string; rationale: string }>(
          base,
          sql`select t.outcome, t.assessed_by_aad_object_id as by, t.rationale from triage_assessments t join referrals r on r.id = t.referral_id where r.reference = ${reference}`,
        ),
        { rationale: 'triage_assessments.rationale' },
      );
      expect(triages).toEqual([{ outcome: winner.outcome, by: people[winner.who].aadObjectId, rationale: `Round ${round}: ${winner.outcome}` }]);
      const opensCase = ['channel', 'police_led'].includes(winner.outcome);
      const cases = await rows<{ owner: string; kind: string }>(
        base,
        sql`select c.owner_aad_object_id as owner, c.kind from cases c join referrals r on r.id = c.referral_id where r.reference = ${reference}`,
      );
      expect(cases).toEqual(opensCase ? [{ owner: people[winner.who].aadObjectId, kind: winner.outcome }] : []);
      const entries = await rows<{ n: number }>(
        base,
        sql`select count(*)::int as n from case_entries e join cases c on c.id = e.case_id join referrals r on r.id = c.referral_id where r.reference = ${reference}`,
      );
      expect(entries[0]!.n).toBe(opensCase ? 1 : 0);
      const [referral] = await rows<{ status: string }>(base, sql`select status from referrals where reference = ${reference}`);
      expect(referral!.status).toBe(opensCase ? 'being_assessed' : 'closed');
      // The referrer is told once, of the winner's status; the loser queued nothing.
      const told = await rows<{ status: string }>(
        base,
        sql`select payload->>'status' as status from outbox where kind = 'referral.status' and payload->>'reference' = ${reference}`,
      );
      expect(told).toEqual([{ status: opensCase ? 'being_assessed' : 'closed' }]);
      const audited = await rows<{ actor: string }>(
        base,
        sql`select a.actor_aad_object_id as actor from audit_log a join referrals r on r.id::text = a.entity_id where a.action = 'referral.triage' and r.reference = ${reference}`,
      );
      expect(audited).toEqual([{ actor: people[winner.who].aadObjectId }]);
      await h.deliverOutbox();
    }
    expect((await verifyAuditChain(base)).problem).toBeUndefined();
  });

  it('closes a case once when two officers close it at the same moment, with exactly two Channel reviews', async () => {
    const { reference } = await channelCase();
    const close = (who: 'megan' | 'isaiah', note: string) => h.user(who).execute('case.submit', { reference, form: 'close', reason: 'riskReduced', note });
    const [a, b] = await race(2, () => Promise.all([close('megan', 'Closed by Megan'), close('isaiah', 'Closed by Isaiah')]));
    const texts = [cardText(a), cardText(b)];
    expect(texts.filter((t) => t.includes('Case closed.')), texts.join('\n---\n')).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Someone else closed this case first. Nothing was changed.'))).toHaveLength(1);

    const closed = opened(
      await rows<{ note: string }>(
        base,
        sql`select e.data->>'note' as note from case_entries e join cases c on c.id = e.case_id join referrals r on r.id = c.referral_id where r.reference = ${reference} and e.kind = 'closed'`,
      ),
      { note: 'case_entries.data:note' },
    );
    expect(closed).toHaveLength(1);
    const winnerNote = texts[0]!.includes('Case closed.') ? 'Closed by Megan' : 'Closed by Isaiah';
    expect(closed[0]!.note).toBe(winnerNote);
    const reviews = await rows<{ title: string; due: string; owner: string }>(
      base,
      sql`select a.title, a.due_on::text as due, a.owner_aad_object_id as owner from case_actions a join cases c on c.id = a.case_id join referrals r on r.id = c.referral_id
          where r.reference = ${reference} and a.kind = 'system' order by a.due_on`,
    );
    expect(reviews).toEqual([
      { title: 'action.channelReview.6', due: '2027-05-27', owner: people.megan.aadObjectId },
      { title: 'action.channelReview.12', due: '2027-11-27', owner: people.megan.aadObjectId },
    ]);
    const [c] = await rows<{ status: string }>(base, sql`select c.status from cases c join referrals r on r.id = c.referral_id where r.reference = ${reference}`);
    expect(c!.status).toBe('closed');
    const told = await rows<{ n: number }>(base, sql`select count(*)::int as n from outbox where kind = 'referral.status' and payload->>'reference' = ${reference} and payload->>'status' = 'closed'`);
    expect(told[0]!.n).toBe(1);
    const audited = await rows<{ n: number }>(base, sql`select count(*)::int as n from audit_log where action = 'case.close'`);
    expect(audited[0]!.n).toBe(1);
    expect((await verifyAuditChain(base)).problem).toBeUndefined();
  });

  it('completes an action once when two officers complete it at the same moment', async () => {
    const { reference, card } = await channelCase();
    const megan = h.user('megan');
    let c = await press(megan, card, 'Add action');
    c = await press(megan, c, 'Save', { title: 'Home visit', owner: people.megan.aadObjectId, dueOn: '2026-12-02' });
    const subject = action(c, 'Complete').data?.subject as string;
    expect(subject).toMatch(/^[0-9a-f-]{36}$/);
    const complete = (who: 'megan' | 'isaiah') => h.user(who).execute('case.submit', { reference, form: 'actionComplete', subject, note: `Done by ${who}` });
    const [a, b] = await race(2, () => Promise.all([complete('megan'), complete('isaiah')]));
    const texts = [cardText(a), cardText(b)];
    expect(texts.filter((t) => t.includes('Action completed.')), texts.join('\n---\n')).toHaveLength(1);
    expect(texts.filter((t) => t.includes('That action was completed by someone else first. Nothing was changed.'))).toHaveLength(1);

    const completions = opened(
      await rows<{ note: string; subject: string }>(base, sql`select data->>'note' as note, subject_id::text as subject from case_entries where kind = 'actionComplete'`),
      { note: 'case_entries.data:note' },
    );
    expect(completions).toEqual([{ note: texts[0]!.includes('Action completed.') ? 'Done by megan' : 'Done by isaiah', subject }]);
    const [act] = await rows<{ status: string }>(base, sql`select status from case_actions where id = ${subject}`);
    expect(act!.status).toBe('done');
    const audited = await rows<{ n: number }>(base, sql`select count(*)::int as n from audit_log where action = 'case.actionComplete'`);
    expect(audited[0]!.n).toBe(1);
  });

  it('accepts one of two simultaneous corrections of the same note and tells the other officer', async () => {
    const { reference, card } = await channelCase();
    const megan = h.user('megan');
    let c = await press(megan, card, 'Add note');
    c = await press(megan, c, 'Save', { text: 'Spoke to the scool' });
    const chron = await press(megan, c, 'Chronology');
    const entry = action(chron, 'Correct').data?.entry as string;
    const correct = (who: 'megan' | 'isaiah', text: string) =>
      h.user(who).execute('case.submit', { reference, form: 'note', corrects: entry, text, correctionReason: `Spelling (${who})` });
    const [a, b] = await race(2, () => Promise.all([correct('megan', 'Spoke to the school'), correct('isaiah', 'Spoke to the School')]));
    const texts = [cardText(a), cardText(b)];
    expect(texts.filter((t) => t.includes('Correction saved.')), texts.join('\n---\n')).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Someone else corrected that entry first. Nothing was changed.'))).toHaveLength(1);

    const corrections = opened(
      await rows<{ text: string; author: string }>(base, sql`select data->>'text' as text, author_aad_object_id as author from case_entries where corrects_entry_id = ${entry}`),
      { text: 'case_entries.data:text' },
    );
    const meganWon = texts[0]!.includes('Correction saved.');
    expect(corrections).toEqual([meganWon ? { text: 'Spoke to the school', author: people.megan.aadObjectId } : { text: 'Spoke to the School', author: people.isaiah.aadObjectId }]);
    const audited = await rows<{ n: number }>(base, sql`select count(*)::int as n from audit_log where action = 'case.correct'`);
    expect(audited[0]!.n).toBe(1);
    expect((await verifyAuditChain(base)).problem).toBeUndefined();
  });

  /*
   * The same races without the gate: on PGlite (one connection, so requests
   * take turns) the slower officer's request reads the record only after the
   * winner has committed, exactly like pressing Save on a card gone stale. The
   * code then refuses in its pre-checks (resolveSubject, correctableEntry)
   * with DomainError('conflict', …, { what }), and the bot shows the generic
   * "Someone else changed this at the same moment. Please try again." — but
   * trying again can never work (the action is done, the entry corrected).
   * The transactional path says what happened; the pre-check path should too.
   * KNOWN FAILING against src as of writing: see the report.
   */
  it('tells an officer pressing a stale Complete or Correct that someone else got there first, not to try again', async () => {
    const { reference, card } = await channelCase();
    const megan = h.user('megan');
    const isaiah = h.user('isaiah');
    let c = await press(megan, card, 'Add action');
    c = await press(megan, c, 'Save', { title: 'Home visit', owner: people.megan.aadObjectId, dueOn: '2026-12-02' });
    const subject = action(c, 'Complete').data?.subject as string;
    c = await press(megan, c, 'Add note');
    c = await press(megan, c, 'Save', { text: 'Spoke to the scool' });
    const entry = action(await press(megan, c, 'Chronology'), 'Correct').data?.entry as string;

    // Megan gets there first…
    expect(cardText(await megan.execute('case.submit', { reference, form: 'actionComplete', subject, note: 'Done' }))).toContain('Action completed.');
    expect(cardText(await megan.execute('case.submit', { reference, form: 'note', corrects: entry, text: 'Spoke to the school', correctionReason: 'Spelling' }))).toContain(
      'Correction saved.',
    );
    // …and Isaiah presses Save on the cards he had open.
    const lateComplete = cardText(await isaiah.execute('case.submit', { reference, form: 'actionComplete', subject, note: 'Done too' }));
    const lateCorrect = cardText(await isaiah.execute('case.submit', { reference, form: 'note', corrects: entry, text: 'Spoke to the School', correctionReason: 'Caps' }));
    expect(lateComplete).not.toContain('Please try again');
    expect(lateComplete).toContain('That action was completed by someone else first. Nothing was changed.');
    expect(lateCorrect).not.toContain('Please try again');
    expect(lateCorrect).toContain('Someone else corrected that entry first. Nothing was changed.');
  });

  it('keeps the corrected entry byte-for-byte, and the database refuses to UPDATE entries or assessments', async () => {
    const { reference, card } = await channelCase();
    const megan = h.user('megan');
    let c = await press(megan, card, 'Add note');
    c = await press(megan, c, 'Save', { text: 'Spoke to the scool' });
    const chron = await press(megan, c, 'Chronology');
    const entry = action(chron, 'Correct').data?.entry as string;

    const readEntry = () =>
      rows(
        base,
        sql`select id::text, seq::text, case_id::text, kind, subject_id::text, corrects_entry_id::text, data::text, author_aad_object_id, at::text from case_entries where id = ${entry}`,
      );
    const original = await readEntry();
    expect(original).toHaveLength(1);
    // Sealed at rest: the stored text is an envelope that opens to what was typed.
    const stored = JSON.parse(String(original[0]!.data)) as { text: string };
    expect(Object.keys(stored)).toEqual(['text']);
    expect(fieldCipher().decrypt(stored.text, 'case_entries.data:text')).toBe('Spoke to the scool');

    const fixed = await megan.execute('case.submit', { reference, form: 'note', corrects: entry, text: 'Spoke to the school', correctionReason: 'Spelling' });
    expect(cardText(fixed)).toContain('Correction saved.');
    expect(await readEntry()).toEqual(original);

    // Straight at the database: an UPDATE is refused by the trigger, and the row is still as it was.
    const updateEntry = base.execute(sql`update case_entries set data = '{}'::jsonb where id = ${entry}`);
    await expect(updateEntry).rejects.toThrow();
    expect(messages(await updateEntry.catch((e: unknown) => e))).toContain('case_entries is append-only (UPDATE refused)');
    expect(await readEntry()).toEqual(original);

    const readTriage = () =>
      rows(
        base,
        sql`select t.id::text, t.outcome, t.rationale, t.contact_made::text, t.assessed_by_aad_object_id, t.assessed_at::text
            from triage_assessments t join referrals r on r.id = t.referral_id where r.reference = ${reference}`,
      );
    const assessment = await readTriage();
    expect(assessment).toHaveLength(1);
    const updateTriage = base.execute(sql`update triage_assessments set rationale = 'rewritten', outcome = 'no_further_action'`);
    await expect(updateTriage).rejects.toThrow();
    expect(messages(await updateTriage.catch((e: unknown) => e))).toContain('triage_assessments is append-only (UPDATE refused)');
    expect(await readTriage()).toEqual(assessment);

    // And the chronology shows both, the original marked as corrected.
    const after = cardText(await openCase(megan, reference).then((card2) => press(megan, card2, 'Chronology')));
    expect(after).toContain('Spoke to the scool');
    expect(after).toContain('Spoke to the school');
    expect(after).toContain('Corrected by a later entry.');
  });
});
