/** A complete, valid set of wizard answers, as a card would submit them (strings), and a walker. */
import type { TeamsUser, Card } from './harness.js';
import { action, cardText } from './cards.js';

export type StepInputs = Record<string, string>;

export function validAnswers(overrides: Partial<Record<string, StepInputs>> = {}): Record<string, StepInputs> {
  const base: Record<string, StepInputs> = {
    danger: { immediateDanger: 'no' },
    aboutYou: { referrerName: 'Alex Wilber', jobTitle: 'Head of Year 9', organisation: 'Northgate Academy', sector: 'education', phone: '020 7946 0000', relationship: 'Head of year' },
    aboutPerson: {
      firstName: 'Jordan',
      lastName: 'Testperson',
      dateOfBirth: '2011-05-04',
      gender: 'male',
      address: '1 Example Street, Northgate',
      postcode: 'NG1 1AA',
      area: 'northgate',
      schoolOrEmployer: 'Northgate Academy',
      firstLanguage: 'English',
      interpreterNeeded: 'no',
    },
    concern: {
      whatSeenOrHeard: 'Shared extremist videos with classmates and said violence was justified.',
      whenAndWhere: 'In class on Monday morning.',
      concernType: 'extremeRightWing',
      behaviours: 'extremistViews,extremistMaterial',
      vulnerabilities: 'isolation',
      threatsOfViolence: 'no',
      parentsSupport: 'notAsked',
    },
    consent: { personAware: 'no', personConsented: 'notAsked', parentsAware: 'yes', otherAgencies: 'childrensSocialCare', agencyDetails: 'Northgate children’s services' },
  };
  for (const [k, v] of Object.entries(overrides)) base[k] = { ...base[k], ...v };
  return base;
}

export const wizardSteps = ['danger', 'aboutYou', 'aboutPerson', 'concern', 'consent'] as const;

/** The draft id the card's buttons carry. */
export function draftIdOf(card: Card): string {
  const a = action(card, /Next|Submit referral|Continue the referral/);
  const id = a.data?.draftId;
  if (typeof id !== 'string') throw new Error(`no draftId on card:\n${cardText(card)}`);
  return id;
}

/**
 * Types `refer` and gets the first step. When the user has unfinished drafts
 * the bot offers them first; then this presses "Start a new referral".
 */
export async function startDraft(user: TeamsUser): Promise<Card> {
  const [reply] = await user.say('refer');
  if (!reply) throw new Error('no card after refer');
  if (!cardText(reply).includes('Your unfinished referrals')) return reply;
  const start = action(reply, 'Start a new referral');
  return user.execute(start.verb!, start.data ?? {});
}

/** Starts a referral and presses Next through every step; returns the review card and the draft id. */
export async function walkToReview(user: TeamsUser, answers = validAnswers()): Promise<{ review: Card; draftId: string }> {
  const first = await startDraft(user);
  const draftId = draftIdOf(first);
  let card: Card = first;
  for (const step of wizardSteps) {
    card = await user.execute('wizard.next', { draftId, step, fromReview: '', ...answers[step] });
  }
  return { review: card, draftId };
}

/** The whole referral: walks to review, ticks the declaration and submits. Returns the acknowledgement card. */
export async function submitReferral(user: TeamsUser, answers = validAnswers()): Promise<{ ack: Card; draftId: string; reference: string }> {
  const { draftId } = await walkToReview(user, answers);
  const ack = await user.execute('wizard.submit', { draftId, declaration: 'true' });
  const m = /[A-Z]{2,5}-\d{4}-\d{6}/.exec(cardText(ack));
  if (!m) throw new Error(`no reference on:\n${cardText(ack)}`);
  return { ack, draftId, reference: m[0] };
}
