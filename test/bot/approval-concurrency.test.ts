/**
 * Many approvers pressing at once, over HTTP, on a real PostgreSQL (PGlite is
 * one connection, so requests there take turns; without DATABASE_URL every
 * test here is skipped).
 *
 * 40 presses of Accept/Decline on one pending transfer, split between the
 * receiving area's two supervisors and choosing different new owners; 40
 * presses of Grant/Decline on one access request; and Grant/Decline racing the
 * requester's Withdraw. Every press is held at the door of its write
 * transaction until all of them have got there (`race()` below), so each has
 * already read the request as pending and only the conditional UPDATE
 * (`where status = 'pending'`) can decide. Exactly one decision is recorded
 * and acted on (case moved at most once, one chronology entry, one audit row,
 * one message per person told); every other presser gets a card showing the
 * decision; nobody gets an HTTP error. The figures are printed for the
 * release note.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, inArray, sql } from 'drizzle-orm';
import { Harness, people, type Card, type HttpReply } from '../harness/harness.js';
import { createTestDatabase, type TestDatabase } from '../harness/databases.js';
import { action, cardActions, cardText } from '../harness/cards.js';
import { submitReferral } from '../harness/referral.js';
import { channelTriage, openCase, press, triage } from '../harness/officer.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { executeRows, type Database } from '../../src/db/client.js';
import { gateTransactions } from '../harness/race.js';
import { openText } from '../../src/db/narrative-fields.js';
import { accessRequests, auditLog, caseEntries, cases, outbox, transfers } from '../../src/db/schema.js';

const hasPostgres = !!process.env.DATABASE_URL;
const N = 40;

/** Monday 1 March 2027, 10:00 London (GMT). */
const clock = new Date('2027-03-01T10:00:00Z');

type Person = keyof typeof people;

interface Press {
  readonly who: Person;
  readonly verb: string;
  readonly data: Record<string, unknown>;
}

interface Answer {
  readonly press: Press;
  readonly reply: HttpReply;
  readonly text: string;
  readonly kind: string;
}

/** What an answer is: the HTTP status and type, and which card. */
function classify(reply: HttpReply, wonTexts: readonly string[]): { text: string; kind: string } {
  const body = reply.body as { type?: string; value?: Card } | undefined;
  const raw = String(JSON.stringify(reply.body) ?? '').slice(0, 300);
  if (reply.status !== 200) return { text: raw, kind: `http ${reply.status}` };
  if (body?.type !== 'application/vnd.microsoft.card.adaptive' || !body.value) return { text: raw, kind: 'not a card' };
  const text = cardText(body.value);
  if (wonTexts.some((w) => text.includes(w))) return { text, kind: 'decided (the winner)' };
  if (text.includes('Already decided:') || text.includes('Already withdrawn')) return { text, kind: 'already decided' };
  if (text.includes('Something needs attention')) return { text, kind: 'error card' };
  return { text, kind: 'other card' };
}

function tally(answers: readonly Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
}

describe.skipIf(!hasPostgres)('approvers racing on PostgreSQL', () => {
  let tdb: TestDatabase;
  let h: Harness;
  let race: ReturnType<typeof gateTransactions>;
  let db: Database;
  beforeEach(async () => {
    tdb = await createTestDatabase('postgres');
    const handle = await tdb.open();
    race = gateTransactions(handle);
    h = await Harness.start({ database: handle, now: () => clock });
    db = h.service.database.db;
    for (const who of ['megan', 'isaiah', 'nestor', 'grady', 'johanna', 'lidia'] as const) await h.user(who).install();
  });
  afterEach(async () => {
    await h.stop();
    await h.service.database.close();
    await tdb.drop();
  });

  /** Sends every press at once (interleaved as listed), all held at their write transaction until all have arrived. */
  async function fire(presses: readonly Press[], wonTexts: readonly string[]): Promise<Answer[]> {
    const replies = await race(presses.length, () => Promise.all(presses.map((p) => h.user(p.who).invoke(p.verb, p.data))));
    return replies.map((reply, i) => ({ press: presses[i]!, reply, ...classify(reply, wonTexts) }));
  }

  async function count(action: string): Promise<number> {
    return (await db.select().from(auditLog).where(eq(auditLog.action, action))).length;
  }

  it(`records one decision of ${N} simultaneous Accept/Decline presses on a transfer by two supervisors`, async () => {
    const { reference } = await submitReferral(h.user('alex'));
    await triage(h.user('megan'), reference, channelTriage);
    const caseCard = await openCase(h.user('megan'), reference);
    const form = await press(h.user('megan'), caseCard, 'Transfer to another area');
    await press(h.user('megan'), form, 'Save', { toArea: 'eastfield', reason: 'The family moved to Eastfield.', newAddress: '12 Orchard Row, Eastfield' });
    await h.deliverOutbox();
    const [t] = await db.select().from(transfers);
    expect(t!.status).toBe('pending');
    const id = t!.id;
    const [before] = await db.select().from(cases);

    // Nestor and Grady alternate; accepts with four different new owners, and declines.
    const choices = [
      { verb: 'transfer.accept', data: { newOwner: people.johanna.aadObjectId, note: '' } },
      { verb: 'transfer.accept', data: { newOwner: 'queue', note: '' } },
      { verb: 'transfer.decline', data: { note: 'Not our area.' } },
      { verb: 'transfer.accept', data: { newOwner: people.nestor.aadObjectId, note: 'Taking it myself.' } },
      { verb: 'transfer.accept', data: { newOwner: people.grady.aadObjectId, note: '' } },
    ];
    const presses: Press[] = Array.from({ length: N }, (_, i) => {
      const c = choices[i % choices.length]!;
      return { who: i % 2 === 0 ? 'nestor' : 'grady', verb: c.verb, data: { id, ...c.data } };
    });
    const started = Date.now();
    const answers = await fire(presses, ['Accepted. The case is now in your area', 'Declined. The requester has been told.']);
    const ms = Date.now() - started;
    const byKind = tally(answers);

    const [row] = await db.select().from(transfers);
    const decisions = (await count('transfer.accept')) + (await count('transfer.decline'));
    console.log(
      `transfer race (PostgreSQL): attempts ${N}, decisions recorded ${decisions} (${row!.status} by ${people[answers.find((a) => a.kind === 'decided (the winner)')?.press.who ?? 'stranger'].name}), responses by kind ${JSON.stringify(byKind)}, ${ms} ms`,
    );

    expect(answers.every((a) => a.reply.status === 200), JSON.stringify(byKind)).toBe(true);
    expect(byKind, answers.filter((a) => !['decided (the winner)', 'already decided'].includes(a.kind)).map((a) => a.text).join('\n---\n')).toEqual({
      'decided (the winner)': 1,
      'already decided': N - 1,
    });
    const winner = answers.find((a) => a.kind === 'decided (the winner)')!;
    const accepted = winner.press.verb === 'transfer.accept';
    const winnerAad = people[winner.press.who].aadObjectId;
    const chosenOwner = accepted ? (winner.press.data.newOwner === 'queue' ? null : String(winner.press.data.newOwner)) : null;

    // The transfer was decided once, as the winner chose.
    expect(row).toMatchObject({ status: accepted ? 'accepted' : 'declined', decidedByAadObjectId: winnerAad, newOwnerAadObjectId: chosenOwner });
    expect(decisions).toBe(1);
    expect(await count(accepted ? 'transfer.accept' : 'transfer.decline')).toBe(1);
    // The case moved at most once, to where the winner said.
    // The request is audited as 'case.transfer' (Megan's form); the move as 'case.moved'.
    const moves = await db.select().from(auditLog).where(eq(auditLog.action, 'case.moved'));
    expect(moves.map((a) => a.actorAadObjectId)).toEqual(accepted ? [winnerAad] : []);
    const [after] = await db.select().from(cases);
    expect(after).toMatchObject(accepted ? { areaId: 'eastfield', ownerAadObjectId: chosenOwner } : { areaId: 'northgate', ownerAadObjectId: before!.ownerAadObjectId });
    const chronology = await db.select().from(caseEntries).where(inArray(caseEntries.kind, ['transferAccepted', 'transferDeclined']));
    expect(chronology).toHaveLength(1);
    expect(chronology[0]!).toMatchObject({ kind: accepted ? 'transferAccepted' : 'transferDeclined', authorAadObjectId: winnerAad });
    // Every loser was shown the winner's decision.
    const decidedWord = accepted ? 'accepted' : 'declined';
    for (const a of answers.filter((x) => x.kind === 'already decided')) expect(a.text).toContain(`Already decided: ${decidedWord} by ${people[winner.press.who].name}`);

    // One message per person told, and one update per delivered approval card.
    const told = await db.select().from(outbox).where(eq(outbox.kind, 'transfer.decided'));
    const recipients = told.map((m) => m.recipientAadObjectId).sort();
    expect(new Set(recipients).size).toBe(recipients.length);
    const expected = new Set<string>([people.megan.aadObjectId]);
    if (accepted) for (const p of chosenOwner ? [chosenOwner] : [people.nestor.aadObjectId, people.grady.aadObjectId, people.johanna.aadObjectId]) expected.add(p);
    expected.delete(winnerAad);
    expect(recipients).toEqual([...expected].sort());
    const updates = await db.select().from(outbox).where(eq(outbox.kind, 'approval.update'));
    expect(updates).toHaveLength(2); // Nestor's and Grady's cards

    await h.deliverOutbox();
    // Each supervisor's delivered approval card was updated in place, once. (teams-ai also PUTs each pressed
    // message — the harness's `card-N` ids — when it answers an Execute with a refreshable card; those are not counted.)
    const delivered = h.connector.sent.filter(
      (s) => s.method === 'POST' && !String(s.activity.replyToId ?? '').startsWith('in-') && (s.activity.attachments ?? []).some((a) => cardActions(a.content).some((b) => b.verb === 'transfer.accept')),
    );
    expect(delivered).toHaveLength(2);
    const puts = h.connector.sent.filter((s) => s.method === 'PUT' && delivered.some((d) => d.id === s.activityId));
    expect(puts.map((p) => p.conversationId).sort()).toEqual(delivered.map((d) => d.conversationId).sort());
    expect((await verifyAuditChain(db)).problem).toBeUndefined();
  });

  it(`records one decision of ${N} simultaneous Grant/Decline presses on an access request`, async () => {
    const { reference } = await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    const id = await lidiaAsks(reference);

    const presses: Press[] = Array.from({ length: N }, (_, i) =>
      i % 2 === 0 ? { who: 'isaiah', verb: 'access.grant', data: { id, note: '' } } : { who: 'isaiah', verb: 'access.decline', data: { id, note: `Decline ${i}` } },
    );
    const started = Date.now();
    const answers = await fire(presses, ['Granted. The requester has been told.', 'Declined. The requester has been told.']);
    const ms = Date.now() - started;
    const byKind = tally(answers);
    const decisions = (await count('access.grant')) + (await count('access.decline'));
    const [row] = await db.select().from(accessRequests);
    console.log(`access race (PostgreSQL): attempts ${N}, decisions recorded ${decisions} (${row!.status}), responses by kind ${JSON.stringify(byKind)}, ${ms} ms`);

    expect(answers.every((a) => a.reply.status === 200)).toBe(true);
    expect(byKind, answers.filter((a) => a.kind !== 'already decided').map((a) => a.text).join('\n---\n')).toEqual({ 'decided (the winner)': 1, 'already decided': N - 1 });
    const winner = answers.find((a) => a.kind === 'decided (the winner)')!;
    const granted = winner.press.verb === 'access.grant';
    expect(decisions).toBe(1);
    // The note is sealed at rest (field encryption): read it as the repository does.
    expect({ ...row, decisionNote: openText('access_requests.decision_note', row!.decisionNote) }).toMatchObject({
      status: granted ? 'granted' : 'declined',
      decidedByAadObjectId: people.isaiah.aadObjectId,
      decisionNote: granted ? null : String(winner.press.data.note),
      expiresAt: granted ? new Date(clock.getTime() + 7 * 24 * 60 * 60 * 1000) : null,
    });
    for (const a of answers.filter((x) => x.kind === 'already decided')) expect(a.text).toContain(`Already decided: ${granted ? 'granted' : 'declined'} by Isaiah Langer`);
    expect(await db.select().from(outbox).where(eq(outbox.kind, 'access.decided'))).toHaveLength(1);
    expect(await db.select().from(outbox).where(eq(outbox.kind, 'approval.update'))).toHaveLength(1);
    await h.deliverOutbox();
    expect((await verifyAuditChain(db)).problem).toBeUndefined();
  });

  it(`records one outcome when the supervisor decides while the requester withdraws (${N} presses)`, async () => {
    const { reference } = await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    const id = await lidiaAsks(reference);
    const presses: Press[] = Array.from({ length: N }, (_, i) =>
      i % 2 === 0 ? { who: 'lidia', verb: 'access.withdraw', data: { id } } : { who: 'isaiah', verb: i % 4 === 1 ? 'access.grant' : 'access.decline', data: { id, note: 'No.' } },
    );
    const answers = await fire(presses, ['Granted. The requester has been told.', 'Declined. The requester has been told.', 'Withdrawn. The supervisors’ cards now say so.']);
    const byKind = tally(answers);
    const outcomes = (await count('access.grant')) + (await count('access.decline')) + (await count('access.withdraw'));
    const [row] = await db.select().from(accessRequests);
    console.log(`decide-or-withdraw race (PostgreSQL): attempts ${N}, outcomes recorded ${outcomes} (${row!.status}), responses by kind ${JSON.stringify(byKind)}`);
    expect(answers.every((a) => a.reply.status === 200)).toBe(true);
    expect(byKind, answers.filter((a) => a.kind !== 'already decided').map((a) => a.text).join('\n---\n')).toEqual({ 'decided (the winner)': 1, 'already decided': N - 1 });
    expect(outcomes).toBe(1);
    expect(['granted', 'declined', 'withdrawn']).toContain(row!.status);
    expect(await db.select().from(outbox).where(eq(outbox.kind, 'access.decided'))).toHaveLength(row!.status === 'withdrawn' ? 0 : 1);
    expect(await db.select().from(outbox).where(eq(outbox.kind, 'approval.update'))).toHaveLength(1);
    const decided = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from access_requests where decided_at is not null`);
    expect(decided).toEqual([{ n: 1 }]);
  });

  /*
   * teams-ai answers an Action.Execute whose card carries `refresh` by first
   * PUTting that card over the message the button was on (REPLACE_FOR_ALL in
   * node_modules/@microsoft/teams-ai/lib/AdaptiveCards.js), outside the outbox
   * and its rate limits; if the Bot Connector refuses that PUT, the invoke
   * fails (HTTP 501) after the decision was already recorded. Here the fake
   * connector enforces Teams' per-conversation limit (7 messages a second,
   * then 429 with Retry-After) as Teams would when one supervisor's presses
   * arrive together. KNOWN FAILING against src as of writing: see the report.
   */
  it('answers every press even when Teams throttles the chat (429 on updates of the pressed message)', async () => {
    const { reference } = await submitReferral(h.user('alex'));
    await h.deliverOutbox();
    const id = await lidiaAsks(reference);
    const recent = new Map<string, number[]>();
    let throttled = 0;
    h.connector.respond = ({ conversationId }) => {
      const now = Date.now();
      const times = (recent.get(conversationId) ?? []).filter((t) => now - t < 1000);
      if (times.length >= 7) {
        throttled += 1;
        recent.set(conversationId, times);
        return { status: 429, retryAfter: 1 };
      }
      recent.set(conversationId, [...times, now]);
      return undefined;
    };
    const presses: Press[] = Array.from({ length: N }, (_, i) => ({ who: 'isaiah', verb: i % 2 === 0 ? 'access.grant' : 'access.decline', data: { id, note: 'No.' } }));
    const answers = await fire(presses, ['Granted. The requester has been told.', 'Declined. The requester has been told.']);
    h.connector.respond = () => undefined;
    const byKind = tally(answers);
    const decisions = (await count('access.grant')) + (await count('access.decline'));
    console.log(`access race, throttled chat (PostgreSQL): attempts ${N}, decisions recorded ${decisions}, connector 429s ${throttled}, responses by kind ${JSON.stringify(byKind)}`);
    expect(decisions).toBe(1);
    expect(byKind).toEqual({ 'decided (the winner)': 1, 'already decided': N - 1 });
  });

  /** Lidia asks for the record by reference; Isaiah's approval card is delivered. Returns the request id. */
  async function lidiaAsks(reference: string): Promise<string> {
    const [find] = await h.user('lidia').say('access');
    const form = await press(h.user('lidia'), find!, 'Find', { reference, lastName: '', dateOfBirth: '' });
    const sent = await press(h.user('lidia'), form, 'Send request', { purpose: 'riskToOthers', purposeDetail: '', justification: 'Risk to younger children in the household.', scopes: 'summary', days: '7' });
    expect(cardText(sent)).toContain('Request sent');
    await h.deliverOutbox();
    return String(action(sent, 'Withdraw request').data!.id);
  }
});
