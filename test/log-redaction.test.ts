/**
 * Logs never hold personal data (issue 6). A full scenario over HTTP with
 * distinctive values in every field — names, date of birth, address, phone,
 * postcode, school, the concern — and the failures that do get logged: a
 * database error whose row and parameters hold those answers, a reply the
 * Bot Connector refuses (its request body is a card with the person's name),
 * a validation error, an unknown command. Every line the service logged is
 * then searched for each value.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Harness, people, type TeamsUser } from './harness/harness.js';
import { testDatabases } from './harness/databases.js';
import { freshHarnessEach } from './harness/fresh.js';
import { cardText, fieldErrors } from './harness/cards.js';
import { draftIdOf, startDraft, validAnswers, wizardSteps } from './harness/referral.js';
import { openCase, press, triage } from './harness/officer.js';
import { createLogger, operationalKeys, redactPaths } from '../src/log.js';
import { LogCapture } from './harness/harness.js';
import { pathways } from '../src/forms/prevent.js';
import { accessDecisionForm, accessFindForm, accessRequestForm, transferDecisionForm } from '../src/forms/approvals.js';
import { DomainError } from '../src/domain/errors.js';
import { z } from 'zod';

/** Monday 30 November 2026, 10:00 London. */
const clock = new Date('2026-11-30T10:00:00Z');

const distinctive = {
  teamsName: 'Ignatius Fennimore-Blake',
  referrerName: 'Ottoline Marchbanks',
  jobTitle: 'Head of Quillwork',
  organisation: 'Snodgrass Foundation',
  phone: '01632 960777',
  relationship: 'Form tutor since Michaelmas',
  firstName: 'Peregrina',
  lastName: 'Thistlewood',
  dateOfBirth: '2010-02-03',
  address: 'Flat 9 Quernstone Mews',
  postcode: 'ZE9 9QX',
  schoolOrEmployer: 'Pennyroyal Grammar',
  firstLanguage: 'Faroese',
  whatSeenOrHeard: 'Zebrafinch manifesto of the Vantablack Order',
  whenAndWhere: 'Behind the Pelargonium greenhouse',
  onlineActivity: 'Posts as kestrel_umbra_71',
  contactsOfConcern: 'A cousin called Thaddeus Quillfeather',
  discussionsHeld: 'Spoke with the Marigoldsworth liaison',
  agencyDetails: 'Brindlecombe children services',
  rationale: 'Ossifrage threshold met',
  note: 'Home visit at Larkspur Terrace',
  badPostcode: 'Gubbinshire-77',
  unknownCommand: 'please tell me about Peregrina Thistlewood',
} as const;

const answers = validAnswers({
  aboutYou: {
    referrerName: distinctive.referrerName,
    jobTitle: distinctive.jobTitle,
    organisation: distinctive.organisation,
    phone: distinctive.phone,
    relationship: distinctive.relationship,
  },
  aboutPerson: {
    firstName: distinctive.firstName,
    lastName: distinctive.lastName,
    dateOfBirth: distinctive.dateOfBirth,
    address: distinctive.address,
    postcode: distinctive.postcode,
    schoolOrEmployer: distinctive.schoolOrEmployer,
    firstLanguage: distinctive.firstLanguage,
  },
  concern: {
    whatSeenOrHeard: distinctive.whatSeenOrHeard,
    whenAndWhere: distinctive.whenAndWhere,
    onlineActivity: distinctive.onlineActivity,
    contactsOfConcern: distinctive.contactsOfConcern,
    discussionsHeld: distinctive.discussionsHeld,
  },
  consent: { agencyDetails: distinctive.agencyDetails },
});

/** Every value above, and the forms it could be written in (the date as a card shows it). */
const needles = [...Object.values(distinctive), '3 Feb 2010', 'Peregrina Thistlewood'];

describe.each(testDatabases())('no personal data in the logs on %s', (kind) => {
  const harness = freshHarnessEach(kind, { now: () => clock });
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it('logs the failures of a whole scenario without any of the values it carried', async () => {
    const db = h.service.database.db;
    for (const who of ['megan', 'isaiah'] as const) await h.user(who).install();
    const referrer: TeamsUser = h.user({ aadObjectId: people.alex.aadObjectId, name: distinctive.teamsName });
    await referrer.install();

    // Walk the wizard; a bad postcode first (a validation error), then the real answers.
    const first = await startDraft(referrer);
    const draftId = draftIdOf(first);
    await referrer.execute('wizard.next', { draftId, step: 'danger', fromReview: '', ...answers.danger });
    await referrer.execute('wizard.next', { draftId, step: 'aboutYou', fromReview: '', ...answers.aboutYou });
    const bad = await referrer.execute('wizard.next', { draftId, step: 'aboutPerson', fromReview: '', ...answers.aboutPerson, postcode: distinctive.badPostcode });
    expect(fieldErrors(bad).postcode).toBeTruthy();

    // The database refuses a write: its error carries the failing row (the answers) and the query's parameters.
    await db.execute(sql.raw(`alter table drafts add constraint log_test_refuse check (not (answers ? 'aboutPerson')) not valid`));
    const refused = await referrer.execute('wizard.next', { draftId, step: 'aboutPerson', fromReview: '', ...answers.aboutPerson });
    expect(cardText(refused)).toMatch(/Something went wrong|Sorry/);
    await db.execute(sql.raw('alter table drafts drop constraint log_test_refuse'));

    for (const step of wizardSteps.slice(2)) await referrer.execute('wizard.next', { draftId, step, fromReview: '', ...answers[step] });
    const ack = await referrer.execute('wizard.submit', { draftId, declaration: 'true' });
    const reference = /[A-Z]{2,5}-\d{4}-\d{6}/.exec(cardText(ack))![0];
    await h.deliverOutbox();

    // Triage and a case note.
    const megan = h.user('megan');
    await triage(megan, reference, { outcome: 'channel', rationale: distinctive.rationale, contactMade: 'yes' });
    await press(megan, await press(megan, await openCase(megan, reference), 'Add note'), 'Save', { text: distinctive.note });

    // The Bot Connector refuses the reply to a message: the failed request's body is a card naming the person.
    h.connector.respond = ({ conversationId, method }) => (conversationId === megan.conversationId && method === 'POST' ? { status: 400 } : undefined);
    await h.post({ ...megan.base(), type: 'message', text: `case ${reference}`, textFormat: 'plain' });
    h.connector.respond = () => undefined;

    // An unknown command.
    const help = await referrer.say(distinctive.unknownCommand);
    expect(help).toHaveLength(1);

    // What was logged: the failures are there, with what helps (kind, code, turn), and no personal data.
    const lines = h.logs.lines;
    expect(lines.some((l) => l.includes('"turn failed"') && l.includes('"23514"'))).toBe(true);
    expect(lines.some((l) => l.includes('turn error'))).toBe(true);
    const leaks = needles.filter((n) => lines.some((l) => l.includes(n)));
    expect(leaks, lines.filter((l) => needles.some((n) => l.includes(n))).join('\n')).toEqual([]);
  });
});

describe('the logger', () => {
  const logged = (fn: (log: ReturnType<typeof createLogger>) => void): string => {
    const logs = new LogCapture();
    fn(createLogger('info', logs));
    return logs.text;
  };

  it('redacts every free-text, name, address and date field of the forms by name, wherever it sits', () => {
    const forms = [...Object.values(pathways).flatMap((p) => [...p.steps, ...Object.values(p.caseForms)]), accessFindForm, accessRequestForm, transferDecisionForm, accessDecisionForm];
    const ids = new Set(forms.flatMap((f) => f.fields.filter((x) => ['text', 'textarea', 'date'].includes(x.kind)).map((x) => x.id)));
    // Nested anywhere one level down, and at the top too unless the service logs it there itself (a refusal `reason`).
    const missing = [...ids].filter((id) => !redactPaths.includes(`*.${id}`) || (!redactPaths.includes(id) && !operationalKeys.includes(id)));
    expect(missing).toEqual([]);
    const text = logged((log) => log.info({ note: 'secret-1', data: { rationale: 'secret-2' }, entry: { data: { text: 'secret-3' } } }, 'x'));
    expect(text).not.toMatch(/secret-/);
  });

  it('keeps a domain error to its code: its message may quote what was typed', () => {
    const text = logged((log) => log.error({ err: new DomainError('invalid_year', 'no statistics for year Thistlewood') }, 'x'));
    expect(text).toContain('invalid_year');
    expect(text).not.toContain('Thistlewood');
  });

  it('keeps a validation error to its issue codes and paths, not the values it received', () => {
    const parsed = z.object({ purpose: z.enum(['a', 'b']), name: z.string().max(3) }).safeParse({ purpose: 'Peregrina', name: 'Thistlewood' });
    const text = logged((log) => log.error({ err: parsed.error }, 'x'));
    expect(text).toContain('invalid_enum_value');
    expect(text).toContain('purpose');
    expect(text).not.toContain('Peregrina');
    expect(text).not.toContain('Thistlewood');
  });

  it('drops the failing row and quoted values that database errors carry', () => {
    const cause = Object.assign(new Error('invalid input syntax for type date: "Thistlewood"'), { code: '22007', detail: 'Failing row contains (Peregrina, 2010-02-03).' });
    const err = Object.assign(new Error('Failed query: insert into "drafts" ("answers") values ($1)\nparams: Peregrina'), { cause, detail: 'Failing row contains (Peregrina).' });
    const text = logged((log) => log.error({ err }, 'x'));
    expect(text).toContain('22007');
    expect(text).toContain('insert into \\"drafts\\"');
    expect(text).not.toMatch(/Peregrina|Thistlewood|2010-02-03/);
  });
});
