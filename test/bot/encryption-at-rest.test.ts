/**
 * Narrative free text is encrypted at rest (issue 6): a whole journey over
 * HTTP — a referral, its triage, a case note, a transfer declined with a
 * note, an access request declined with a note — and then every text-like
 * column of every table is read as text, the way someone holding a copy of
 * the database would. None of the narrative values is there; the names and
 * the date of birth are (they stay searchable), which shows the scan finds
 * what is stored in the clear. The bot still shows the text to the people
 * entitled to read it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Harness, type Card } from '../harness/harness.js';
import { testDatabases } from '../harness/databases.js';
import { freshHarnessEach } from '../harness/fresh.js';
import { cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { openCase, press, triage } from '../harness/officer.js';
import { columnsHolding, storedColumns, storedValuesContaining } from '../harness/scan.js';
import { keyIdOf } from '../../src/db/field-crypto.js';

/** Monday 30 November 2026, 10:00 London. */
const clock = new Date('2026-11-30T10:00:00Z');

/** Distinctive narrative values: each must never be found in the database. */
const narrative = {
  address: 'Flat 9 Quernstone Mews, Northgate',
  whatSeenOrHeard: 'Zebrafinch shared a manifesto of the Vantablack Order',
  whenAndWhere: 'Behind the Pelargonium greenhouse at lunchtime',
  onlineActivity: 'Posts as kestrel_umbra_71 on a forum',
  contactsOfConcern: 'An older cousin called Thaddeus Quillfeather',
  discussionsHeld: 'Talked it through with the Marigoldsworth liaison',
  agencyDetails: 'Caseworker at Brindlecombe children services',
  rationale: 'Ossifrage threshold met: engagement is clear',
  note: 'Home visit at Larkspur Terrace went well',
  transferReason: 'Moving in with a grandmother near Whimbrel Close',
  newAddress: '44 Whimbrel Close, Eastfield EF9 9ZZ',
  declineNote: 'Not ours: Gallimaufry Lane is in Westmoor',
  purposeDetail: 'Tamarisk placement panel next week',
  justification: 'Placing a sibling; Cormorant risk assessment needed',
  accessNote: 'Ask the Northgate officer: Xanthippe protocol',
} as const;

/** Not encrypted: the access search and the officers' lists read these. */
const person = { firstName: 'Peregrina', lastName: 'Thistlewood', dateOfBirth: '2010-02-03' };

describe.each(testDatabases())('encryption at rest on %s', (kind) => {
  const harness = freshHarnessEach(kind, { now: () => clock });
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  const proactive = (who: 'nestor' | 'isaiah') =>
    h.connector.sent
      .filter((s) => s.conversationId === h.user(who).conversationId && s.method === 'POST' && !String(s.activity.replyToId ?? '').startsWith('in-'))
      .flatMap((s) => (s.activity.attachments ?? []).map((a) => a.content as Card));

  it('keeps every narrative value out of the database in the clear, and shows it on the cards', async () => {
    for (const who of ['megan', 'nestor', 'grady', 'isaiah', 'lidia'] as const) await h.user(who).install();

    // The referral, with distinctive text in every narrative field.
    const answers = validAnswers({
      aboutPerson: { ...person, address: narrative.address },
      concern: {
        whatSeenOrHeard: narrative.whatSeenOrHeard,
        whenAndWhere: narrative.whenAndWhere,
        onlineActivity: narrative.onlineActivity,
        contactsOfConcern: narrative.contactsOfConcern,
        discussionsHeld: narrative.discussionsHeld,
      },
      consent: { agencyDetails: narrative.agencyDetails },
    });
    const { reference } = await submitReferral(h.user('alex'), answers);

    // Triage opens a Channel case; a note goes on it.
    const megan = h.user('megan');
    await triage(megan, reference, { outcome: 'channel', rationale: narrative.rationale, contactMade: 'yes' });
    let card = await openCase(megan, reference);
    card = await press(megan, await press(megan, card, 'Add note'), 'Save', { text: narrative.note });
    expect(cardText(card)).toContain('Note added.');

    // A transfer to Eastfield, declined there with a note.
    const form = await press(megan, await openCase(megan, reference), 'Transfer to another area');
    expect(cardText(await press(megan, form, 'Save', { toArea: 'eastfield', reason: narrative.transferReason, newAddress: narrative.newAddress }))).toContain('Transfer to Eastfield requested');
    await h.deliverOutbox();
    const transferCard = proactive('nestor').at(-1)!;
    expect(cardText(transferCard)).toContain(narrative.newAddress);
    expect(cardText(transferCard)).toContain(narrative.transferReason);
    expect(cardText(await press(h.user('nestor'), transferCard, 'Decline', { note: narrative.declineNote }))).toContain('Declined by Nestor Wilke');

    // A partner agency asks to see the record; Northgate's supervisor declines with a note.
    const lidia = h.user('lidia');
    const [find] = await lidia.say('access');
    const request = await press(lidia, find!, 'Find', { reference, lastName: '', dateOfBirth: '' });
    const sent = await press(lidia, request, 'Send request', {
      purpose: 'safeguardingRisk',
      purposeDetail: narrative.purposeDetail,
      justification: narrative.justification,
      scopes: 'summary',
      days: '7',
    });
    expect(cardText(sent)).toContain(narrative.justification);
    await h.deliverOutbox();
    const accessCard = proactive('isaiah').filter((c) => /^Access request/m.test(cardText(c))).at(-1)!;
    expect(cardText(accessCard)).toContain(narrative.justification);
    expect(cardText(await press(h.user('isaiah'), accessCard, 'Decline', { note: narrative.accessNote }))).toContain('Declined');
    await h.deliverOutbox();

    // The officer still reads it all in plain text.
    const referralCard = cardText(await press(megan, await openCase(megan, reference), 'View referral'));
    for (const v of [narrative.whatSeenOrHeard, narrative.address, narrative.agencyDetails, person.lastName]) expect(referralCard).toContain(v);
    const chronology = cardText(await press(megan, await openCase(megan, reference), 'Chronology'));
    expect(chronology).toContain(narrative.note);

    // What a copy of the database holds.
    const db = h.service.database.db;
    const columns = await storedColumns(db);
    expect(columns.map((c) => `${c.table}.${c.column}`)).toEqual(expect.arrayContaining(['referrals.answers', 'drafts.answers', 'case_entries.data', 'triage_assessments.rationale', 'bot_state.data', 'outbox.payload', 'audit_log.action']));
    const leaks: Record<string, string[]> = {};
    for (const [field, value] of Object.entries(narrative)) {
      const found = await columnsHolding(db, value, columns);
      if (found.length > 0) leaks[field] = found;
    }
    expect(leaks).toEqual({});

    // The scan does find what is stored in the clear: the names and the date of birth.
    expect(await columnsHolding(db, person.lastName, columns)).toEqual(expect.arrayContaining(['drafts.answers', 'referrals.answers']));
    expect(await columnsHolding(db, person.firstName, columns)).toEqual(expect.arrayContaining(['referrals.answers']));
    expect(await columnsHolding(db, person.dateOfBirth, columns)).toEqual(expect.arrayContaining(['referrals.answers']));

    // Where the narrative went: sealed values under the configured key, in every place that holds free text.
    const sealed = await storedValuesContaining(db, 'enc:v1:', columns);
    expect([...new Set(sealed.map((s) => s.at))].sort()).toEqual([
      'access_requests.decision_note',
      'access_requests.justification',
      'access_requests.purpose_detail',
      'case_entries.data',
      'drafts.answers',
      'referrals.answers',
      'transfers.decision_note',
      'transfers.new_address',
      'transfers.reason',
      'triage_assessments.rationale',
    ]);
    const keyIds = new Set(sealed.flatMap((s) => [...s.text.matchAll(/enc:v1:[^:"]+/g)].map((m) => keyIdOf(`${m[0]}:`))));
    expect([...keyIds]).toEqual(['test1']);
  });
});
