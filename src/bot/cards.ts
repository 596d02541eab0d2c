/**
 * Card templates from cards/*.json, expanded with adaptivecards-templating.
 * One interface per template, named after the file; templates hold layout and
 * bindings only. Templates are read once at start.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ACData from 'adaptivecards-templating';

export const cardsFolder = fileURLToPath(new URL('../../cards/', import.meta.url));

type Json = Record<string, unknown>;

export interface ChoiceView {
  readonly title: string;
  readonly value: string;
}

export interface FieldView {
  readonly id: string;
  readonly kind: 'text' | 'textarea' | 'choice' | 'multichoice' | 'date' | 'number' | 'toggle';
  readonly label: string;
  readonly placeholder: string;
  readonly value: string;
  readonly numberValue: number | null;
  readonly choices: readonly ChoiceView[];
  readonly choiceStyle: 'compact' | 'expanded';
  readonly maxLength: number;
  readonly min: number;
  readonly max: number;
  readonly maxDate: string;
  readonly toggleTitle: string;
  /** Small grey guidance under the input. */
  readonly help: string;
  readonly error: string;
}

/** Data sent back by an action; `verb` is added for the Action.Submit fallback. */
export type ActionData = Record<string, string>;

/** cards/referral-step.json */
export interface ReferralStepCard {
  readonly t: { readonly next: string; readonly back: string; readonly save: string };
  /** Shown on every step after a "yes" to immediate danger. */
  readonly dangerBanner: string;
  readonly progress: string;
  readonly title: string;
  readonly intro: string;
  readonly errorSummary: string;
  readonly fields: readonly FieldView[];
  readonly canGoBack: boolean;
  readonly actionData: ActionData;
  readonly nextSubmitData: ActionData;
  readonly backSubmitData: ActionData;
  readonly saveSubmitData: ActionData;
}

export interface AnswerView {
  readonly label: string;
  readonly value: string;
}

export interface SectionView {
  readonly title: string;
  readonly answers: readonly AnswerView[];
}

/** cards/referral-review.json */
export interface ReferralReviewCard {
  readonly t: { readonly submit: string; readonly back: string };
  readonly dangerBanner: string;
  readonly progress: string;
  readonly title: string;
  readonly intro: string;
  readonly errorSummary: string;
  readonly sections: ReadonlyArray<SectionView & { readonly editLabel: string; readonly editData: ActionData; readonly editSubmitData: ActionData }>;
  readonly declaration: { readonly label: string; readonly title: string; readonly value: string; readonly error: string };
  readonly actionData: ActionData;
  readonly submitSubmitData: ActionData;
  readonly backData: ActionData;
  readonly backSubmitData: ActionData;
}

/** cards/referral-view.json */
export interface ReferralViewCard {
  readonly title: string;
  readonly meta: string;
  readonly sections: readonly SectionView[];
  readonly audited: string;
}

/** cards/referral-danger.json */
export interface ReferralDangerCard {
  readonly t: { readonly continue: string };
  readonly title: string;
  readonly body: string;
  readonly after: string;
  readonly actionData: ActionData;
  readonly continueSubmitData: ActionData;
}

/** cards/referral-ack.json */
export interface ReferralAckCard {
  readonly t: { readonly myReferrals: string };
  readonly title: string;
  readonly referenceLine: string;
  readonly nextSteps: readonly string[];
}

/** cards/message.json: a title, lines of text and command buttons (Action.Submit carrying the command). */
export interface MessageCard {
  readonly title: string;
  readonly titleColor: 'Default' | 'Attention' | 'Good';
  readonly lines: readonly string[];
  readonly buttons: ReadonlyArray<{ readonly title: string; readonly command: string }>;
}

/** cards/my-referrals.json */
export interface MyReferralsCard {
  readonly title: string;
  readonly empty: string;
  readonly items: ReadonlyArray<{ readonly reference: string; readonly submitted: string; readonly status: string }>;
}

/** cards/drafts.json */
export interface DraftsCard {
  readonly t: { readonly startNew: string };
  readonly title: string;
  readonly empty: string;
  readonly intro: string;
  /** Offer "Start a new referral" (when `refer` found unfinished drafts). */
  readonly startNew: boolean;
  readonly items: ReadonlyArray<{ readonly person: string; readonly detail: string; readonly continueLabel: string; readonly actionData: ActionData; readonly submitData: ActionData }>;
}

/** cards/referral-notice.json */
export interface ReferralNoticeCard {
  readonly t: { readonly open: string };
  readonly title: string;
  readonly body: string;
  readonly actionData: ActionData;
  readonly submitData: ActionData;
}

interface CardData {
  'referral-step': ReferralStepCard;
  'referral-review': ReferralReviewCard;
  'referral-view': ReferralViewCard;
  'referral-danger': ReferralDangerCard;
  'referral-ack': ReferralAckCard;
  message: MessageCard;
  'my-referrals': MyReferralsCard;
  drafts: DraftsCard;
  'referral-notice': ReferralNoticeCard;
}

export type CardName = keyof CardData;
export const cardNames: readonly CardName[] = ['referral-step', 'referral-review', 'referral-view', 'referral-danger', 'referral-ack', 'message', 'my-referrals', 'drafts', 'referral-notice'];

const templates = new Map<CardName, ACData.Template>(
  cardNames.map((name) => [name, new ACData.Template(JSON.parse(readFileSync(`${cardsFolder}${name}.json`, 'utf8')) as Json)]),
);

/** Expands a template with its data. */
export function renderCard<N extends CardName>(name: N, data: CardData[N]): Json {
  const card = templates.get(name)!.expand({ $root: data }) as Json;
  delete card.$schema;
  return card;
}

/** Action.Submit fallback data: the same as the Execute data, plus the verb. */
export function submitData(verb: string, data: ActionData): ActionData {
  return { ...data, verb };
}

/**
 * Neutralises Markdown in text a user typed, so it shows as typed: no links,
 * emphasis or lists smuggled into an officer's card.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/([\\`*_[\]()<>#!|~])/g, '\\$1')
    .replace(/^(\s*)([-+])(\s)/gm, '$1\\$2$3')
    .replace(/^(\s*)(\d+)\.(\s)/gm, '$1$2\\.$3');
}
