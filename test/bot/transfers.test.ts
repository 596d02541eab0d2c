/**
 * Transfers between areas over HTTP: requested from the case card, decided
 * inline by the receiving area's supervisors on an approval card that every
 * copy of updates, withdrawn, escalated; and the case moving with its access.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { Harness, people, type Card } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { cardActions, cardInputs, cardText, fieldErrors } from '../harness/cards.js';
import { submitReferral } from '../harness/referral.js';
import { channelTriage, openCase, press, triage } from '../harness/officer.js';
import { auditLog, caseActions, cases as casesTable, outbox, transfers } from '../../src/db/schema.js';

/** Monday 30 November 2026, 10:00 London. */
let clock = new Date('2026-11-30T10:00:00Z');

const move = { toArea: 'eastfield', reason: 'The family moved to Eastfield last week.', newAddress: '12 Orchard Row, Eastfield EF1 2AB' };

describe.each(testDatabases())('transfers on %s', (kind) => {
  beforeEach(() => {
    clock = new Date('2026-11-30T10:00:00Z');
  });
  const harness = freshHarnessEach(kind, { now: () => clock });
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  /** A Northgate Channel case owned by Megan, with one open action. */
  async function northgateCase(): Promise<{ reference: string; card: Card }> {
    for (const who of ['megan', 'nestor', 'grady', 'johanna', 'isaiah'] as const) await h.user(who).install();
    const { reference } = await submitReferral(h.user('alex'));
    await triage(h.user('megan'), reference, channelTriage);
    let card = await openCase(h.user('megan'), reference);
    const form = await press(h.user('megan'), card, 'Add action');
    card = await press(h.user('megan'), form, 'Save', { title: 'Call the school', owner: people.megan.aadObjectId, dueOn: '2026-12-10' });
    await h.deliverOutbox();
    h.connector.clear();
    return { reference, card };
  }

  async function requestMove(reference: string): Promise<Card> {
    const card = await openCase(h.user('megan'), reference);
    const form = await press(h.user('megan'), card, 'Transfer to another area');
    const areas = cardInputs(form).find((i) => i.id === 'toArea')!.choices!.map((c) => c.value);
    expect(areas).not.toContain('northgate'); // not to where it already is
    return press(h.user('megan'), form, 'Save', move);
  }

  const approvalCards = (who: keyof typeof people) =>
    h.connector.sent.filter((s) => s.conversationId === h.user(who).conversationId && s.method === 'POST' && !String(s.activity.replyToId ?? '').startsWith('in-')).flatMap((s) => (s.activity.attachments ?? []).map((a) => ({ card: a.content, id: s })));

  it('asks the receiving supervisors, who accept inline; the case moves, both sides are told, every copy is updated', async () => {
    const { reference } = await northgateCase();
    const saved = await requestMove(reference);
    expect(cardText(saved)).toContain('Transfer to Eastfield requested');
    expect(cardText(await openCase(h.user('megan'), reference))).toContain('Transfer to Eastfield asked for on');
    expect(cardActions(saved).map((a) => a.title)).not.toContain('Transfer to another area');

    await h.deliverOutbox();
    // Nestor and Grady (Eastfield's supervisors) each get the approval card; Isaiah (Northgate) does not.
    const nestorCard = approvalCards('nestor').at(-1)!.card;
    expect(approvalCards('grady')).toHaveLength(1);
    expect(approvalCards('isaiah')).toHaveLength(0);
    const text = cardText(nestorCard);
    expect(text).toContain(`Transfer of ${reference}`);
    expect(text).toContain('Waiting for a decision by Eastfield’s supervisors');
    expect(text).toContain('12 Orchard Row');
    expect(nestorCard.refresh).toMatchObject({ action: { verb: 'approval.refresh' }, userIds: [`29:${people.nestor.aadObjectId}`] });
    expect(cardActions(nestorCard).map((a) => a.title)).toEqual(['Accept', 'Decline']);

    // Accept needs a new owner.
    const missing = await press(h.user('nestor'), nestorCard, 'Accept', {});
    expect(fieldErrors(missing).newOwner).toBeTruthy();
    const accepted = await press(h.user('nestor'), nestorCard, 'Accept', { newOwner: people.johanna.aadObjectId, note: '' });
    expect(cardText(accepted)).toContain('Accepted by Nestor Wilke');
    expect(cardText(accepted)).toContain('Now with: Johanna Lorenz');
    expect(cardActions(accepted).map((a) => a.title)).toEqual(['Open case']);

    const [row] = await h.service.database.db.select().from(casesTable);
    expect(row).toMatchObject({ areaId: 'eastfield', ownerAadObjectId: people.johanna.aadObjectId });
    const actions = await h.service.database.db.select().from(caseActions).where(eq(caseActions.status, 'open'));
    expect(actions.every((a) => a.ownerAadObjectId === people.johanna.aadObjectId)).toBe(true);

    // The old area has lost access; the new owner has it.
    const megan = await h.user('megan').say(`case ${reference}`);
    expect(cardText(megan.at(-1)!)).toContain('You do not have access');
    const johanna = await openCase(h.user('johanna'), reference);
    expect(cardText(johanna)).toContain('Owner: Johanna Lorenz');

    await h.deliverOutbox();
    // Both sides told: Megan (requester and old owner) and Johanna (new owner).
    expect(cardText(approvalCards('megan').at(-1)!.card)).toContain('Accepted by Nestor Wilke');
    expect(cardText(approvalCards('johanna').at(-1)!.card)).toContain('Now with: Johanna Lorenz');
    // Every delivered approval card was updated in place (PUT to its activity id), buttons gone.
    const puts = h.connector.sent.filter((s) => s.method === 'PUT');
    const grady = puts.find((s) => s.conversationId === h.user('grady').conversationId)!;
    expect(grady.activityId).toBe(approvalCards('grady')[0]!.id.id);
    const gradyCard = grady.activity.attachments![0]!.content;
    expect(cardText(gradyCard)).toContain('Accepted by Nestor Wilke');
    expect(cardActions(gradyCard).filter((a) => a.title === 'Accept')).toHaveLength(0);
    expect(puts.some((s) => s.conversationId === h.user('nestor').conversationId)).toBe(true);

    // The chronology records it.
    const chronology = await press(h.user('johanna'), johanna, 'Chronology');
    expect(cardText(chronology)).toContain('Transferred from Northgate to Eastfield');
    expect(cardText(chronology)).toContain('Transfer to Eastfield asked for');
  });

  it('a stale card, a second press and the other supervisor all see the decision; nothing changes twice', async () => {
    const { reference } = await northgateCase();
    await requestMove(reference);
    await h.deliverOutbox();
    const nestorCard = approvalCards('nestor').at(-1)!.card;
    const gradyCard = approvalCards('grady').at(-1)!.card;
    await press(h.user('nestor'), nestorCard, 'Decline', { note: 'Not our area: the address is in Westmoor.' });
    const again = await press(h.user('nestor'), nestorCard, 'Accept', { newOwner: 'queue' });
    expect(cardText(again)).toContain('Already decided: declined by Nestor Wilke');
    const late = await press(h.user('grady'), gradyCard, 'Accept', { newOwner: 'queue' });
    expect(cardText(late)).toContain('Already decided: declined by Nestor Wilke');
    const [row] = await h.service.database.db.select().from(casesTable);
    expect(row!.areaId).toBe('northgate');
    const decisions = await h.service.database.db.select().from(auditLog).where(eq(auditLog.action, 'transfer.decline'));
    expect(decisions).toHaveLength(1);
    expect(await h.service.database.db.select().from(auditLog).where(eq(auditLog.action, 'transfer.accept'))).toHaveLength(0);
  });

  it('declining needs a reason; the requester can withdraw; only the requester', async () => {
    const { reference } = await northgateCase();
    await requestMove(reference);
    await h.deliverOutbox();
    const nestorCard = approvalCards('nestor').at(-1)!.card;
    const noReason = await press(h.user('nestor'), nestorCard, 'Decline', { note: '' });
    expect(fieldErrors(noReason).note).toContain('Say why');

    const caseCard = await openCase(h.user('megan'), reference);
    const mine = await press(h.user('megan'), caseCard, 'See transfer request');
    expect(cardActions(mine).map((a) => a.title)).toContain('Withdraw request');
    // Nestor cannot withdraw Megan's request with a forged press.
    const forged = await h.user('nestor').execute('transfer.withdraw', { id: String(cardActions(mine).find((a) => a.title === 'Withdraw request')!.data!.id) });
    expect(cardText(forged)).toContain('You do not have access');
    const withdrawn = await press(h.user('megan'), mine, 'Withdraw request');
    expect(cardText(withdrawn)).toContain('Withdrawn by Megan Bowen');
    const late = await press(h.user('nestor'), nestorCard, 'Accept', { newOwner: 'queue' });
    expect(cardText(late)).toContain('Already withdrawn');
    const [t] = await h.service.database.db.select().from(transfers);
    expect(t!.status).toBe('withdrawn');
  });

  it('refuses the wrong area, the requester themself, and people without the role; refresh shows each their own card', async () => {
    const { reference } = await northgateCase();
    await requestMove(reference);
    await h.deliverOutbox();
    const nestorCard = approvalCards('nestor').at(-1)!.card;
    const id = String(cardActions(nestorCard)[0]!.data!.id);
    // Isaiah supervises Northgate, not Eastfield.
    expect(cardText(await h.user('isaiah').execute('transfer.accept', { id, newOwner: 'queue' }))).toContain('You do not have access');
    // Johanna is an Eastfield officer, not a supervisor.
    expect(cardText(await h.user('johanna').execute('transfer.accept', { id, newOwner: 'queue' }))).toContain('You do not have access');
    expect(cardText(await h.user('alex').execute('transfer.accept', { id, newOwner: 'queue' }))).toContain('You do not have access');
    expect(cardText(await h.user('lidia').execute('approval.refresh', { subject: 'transfer', id }))).toContain('You do not have access');
    const [t] = await h.service.database.db.select().from(transfers);
    expect(t!.status).toBe('pending');

    const decider = await h.user('grady').execute('approval.refresh', { subject: 'transfer', id });
    expect(cardActions(decider).map((a) => a.title)).toEqual(['Accept', 'Decline']);
    const requester = await h.user('megan').execute('approval.refresh', { subject: 'transfer', id });
    expect(cardActions(requester).map((a) => a.title)).toEqual(['Withdraw request', 'Open case']);
    const sending = await h.user('isaiah').execute('approval.refresh', { subject: 'transfer', id });
    expect(cardActions(sending).map((a) => a.title)).toEqual([]);
    expect(cardText(sending)).not.toContain('12 Orchard Row');
    const denied = await h.service.database.db.select().from(auditLog).where(eq(auditLog.action, 'transfer.decide_denied'));
    expect(denied.length).toBe(3);
  });

  it('accepting into the area queue leaves the case unowned until an officer takes it', async () => {
    const { reference } = await northgateCase();
    await requestMove(reference);
    await h.deliverOutbox();
    const nestorCard = approvalCards('nestor').at(-1)!.card;
    await press(h.user('nestor'), nestorCard, 'Accept', { newOwner: 'queue' });
    let card = await openCase(h.user('johanna'), reference);
    expect(cardText(card)).toContain('No owner yet');
    card = await press(h.user('johanna'), card, 'Take this case');
    expect(cardText(card)).toContain('You now own this case.');
    expect(cardText(card)).toContain('Owner: Johanna Lorenz');
    const again = await h.user('grady').execute('case.take', { reference });
    expect(cardText(again)).toContain('Someone else took this case first');
  });

  it('escalates a transfer pending more than 5 working days to the sending supervisors, once', async () => {
    const { reference } = await northgateCase();
    await requestMove(reference); // Monday 30 Nov: escalate after Monday 7 Dec
    clock = new Date('2026-12-07T10:00:00Z');
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    expect(h.connector.cardsIn(h.user('isaiah').conversationId).filter((c) => cardText(c).includes('still waits'))).toHaveLength(0);
    clock = new Date('2026-12-08T10:00:00Z');
    await h.service.sweeper.runOnce();
    await h.service.sweeper.runOnce();
    await h.deliverOutbox();
    const told = h.connector.cardsIn(h.user('isaiah').conversationId).filter((c) => cardText(c).includes('still waits for a decision'));
    expect(told).toHaveLength(1);
    expect(cardText(told[0]!)).toContain(`Transfer of ${reference}`);
    const rows = await h.service.database.db.select().from(outbox).where(eq(outbox.kind, 'transfer.escalated'));
    expect(rows).toHaveLength(1);
  });
});
