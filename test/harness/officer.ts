/** Officers' journeys through the harness: press a card's button by its title, fill a case form. */
import type { Card, TeamsUser } from './harness.js';
import { action, cardText } from './cards.js';

/** Presses the button titled `title` on `card` (Action.Execute), adding `inputs` as the card would. */
export async function press(user: TeamsUser, card: Card, title: string | RegExp, inputs: Record<string, string> = {}): Promise<Card> {
  const a = action(card, title);
  if (!a.verb) throw new Error(`"${String(title)}" is not an Action.Execute:\n${cardText(card)}`);
  return user.execute(a.verb, { ...(a.data ?? {}), ...inputs });
}

/** Opens a reference with the `case` command and returns the card. */
export async function openCase(user: TeamsUser, reference: string): Promise<Card> {
  // A proactive notice may land in the chat at the same moment: take the reply about this reference.
  const cards = await user.say(`case ${reference}`);
  const card = cards.find((c) => new RegExp(`^(Referral|Case) ${reference}$`, 'm').test(cardText(c))) ?? cards.at(-1);
  if (!card) throw new Error('no reply to case command');
  return card;
}

/** Records the gateway assessment from the referral card: Record → fill → Save. */
export async function triage(user: TeamsUser, reference: string, inputs: Record<string, string>): Promise<Card> {
  const referral = await openCase(user, reference);
  const form = await press(user, referral, 'Record gateway assessment');
  return press(user, form, 'Save', inputs);
}

export const channelTriage = { outcome: 'channel', rationale: 'Clear engagement with extremist material; meets the threshold for panel.', contactMade: 'yes' };
