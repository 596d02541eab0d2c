/**
 * Card templates from cards/*.json, expanded with adaptivecards-templating.
 * One interface per template, named after the file; templates hold layout and
 * bindings only. Templates are read and parsed once at start (an
 * `ACData.Template` parses its expressions in its constructor, so `expand`
 * only evaluates them).
 *
 * Expansion cost is per node and per expression, and a `$when` that comes out
 * false costs more than two bindings (the library builds a warning string
 * from the expression every time). So the step card does not choose each
 * field's input among alternatives with `$when`: each input kind has its own
 * small template, cards/fields/<kind>.json (interface `<Kind>Field`), expanded
 * once per field, and the step template places the expanded input with a plain
 * binding. Elements that are usually absent (danger banner, error summary, a
 * field's help and error) repeat with `$data` over a list of zero or one
 * (`OptionalText`) instead of hiding behind a `$when`; `$when` stays where the
 * element is usually shown (intro, Back). An object bound into a template is
 * placed as it is, not expanded again, so text a user typed that looks like
 * `${…}` stays literal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardsFolder } from '../paths.js';
import * as ACData from 'adaptivecards-templating';


/** A card, or an element of one, as JSON. */
export type Json = Record<string, unknown>;

export interface ChoiceView {
  readonly title: string;
  readonly value: string;
}

/** An optional line of text: a list of zero or one, repeated over by the template's `$data`. */
export type OptionalText = readonly [] | readonly [{ readonly text: string }];

/** Fields shared by every input template in cards/fields/. */
interface InputField {
  readonly id: string;
  readonly label: string;
}

/** cards/fields/text.json */
export interface TextField extends InputField {
  readonly value: string;
  readonly placeholder: string;
  readonly maxLength: number;
}

/** cards/fields/textarea.json */
export interface TextareaField extends InputField {
  readonly value: string;
  readonly placeholder: string;
  readonly maxLength: number;
}

/** cards/fields/date.json */
export interface DateField extends InputField {
  /** yyyy-mm-dd, or empty. */
  readonly value: string;
  /** Latest date allowed, yyyy-mm-dd. */
  readonly max: string;
}

/** cards/fields/number.json */
export interface NumberField extends InputField {
  /** `null` when nothing (or not a whole number) was typed: the input shows empty. */
  readonly value: number | null;
  readonly min: number;
  readonly max: number;
}

/** cards/fields/choice.json */
export interface ChoiceField extends InputField {
  readonly value: string;
  readonly style: 'compact' | 'expanded';
  readonly placeholder: string;
  readonly choices: readonly ChoiceView[];
}

/** cards/fields/multichoice.json */
export interface MultichoiceField extends InputField {
  /** Chosen values, comma-separated. */
  readonly value: string;
  readonly choices: readonly ChoiceView[];
}

/** cards/fields/toggle.json */
export interface ToggleField extends InputField {
  readonly title: string;
  /** "true" or "false". */
  readonly value: string;
}

/** The input template for each field kind: cards/fields/<kind>.json. */
interface InputData {
  text: TextField;
  textarea: TextareaField;
  date: DateField;
  number: NumberField;
  choice: ChoiceField;
  multichoice: MultichoiceField;
  toggle: ToggleField;
}

export type InputKind = keyof InputData;
export const inputKinds: readonly InputKind[] = ['text', 'textarea', 'date', 'number', 'choice', 'multichoice', 'toggle'];

/** One field on the step card. */
export interface StepFieldView {
  /** The input, already expanded from its kind's template (`renderInput`). */
  readonly input: Json;
  /** Small grey guidance under the input. */
  readonly help: OptionalText;
  readonly error: OptionalText;
}

/** Data sent back by an action; `verb` is added for the Action.Submit fallback. */
export type ActionData = Record<string, string>;

/** cards/referral-step.json */
export interface ReferralStepCard {
  readonly t: { readonly next: string; readonly back: string; readonly save: string };
  /** Shown on every step after a "yes" to immediate danger. */
  readonly dangerBanner: OptionalText;
  readonly progress: string;
  readonly title: string;
  /** Left out when empty. */
  readonly intro: string;
  readonly errorSummary: OptionalText;
  readonly fields: readonly StepFieldView[];
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
  readonly dangerBanner: OptionalText;
  readonly progress: string;
  readonly title: string;
  readonly intro: string;
  readonly errorSummary: OptionalText;
  readonly sections: ReadonlyArray<SectionView & { readonly editLabel: string; readonly editData: ActionData; readonly editSubmitData: ActionData }>;
  readonly declaration: { readonly label: string; readonly title: string; readonly value: string; readonly error: OptionalText };
  readonly actionData: ActionData;
  readonly submitSubmitData: ActionData;
  readonly backData: ActionData;
  readonly backSubmitData: ActionData;
}

/** A button that runs a verb: Action.Execute with an Action.Submit fallback carrying the same data plus the verb. */
export interface ButtonView {
  readonly title: string;
  readonly verb: string;
  readonly data: ActionData;
  readonly submitData: ActionData;
}

/** A coloured line at the top of a card after a change: zero or one. */
export type NoticeView = readonly [] | readonly [{ readonly text: string; readonly color: 'Good' | 'Attention' | 'Warning' | 'Default' }];

/** cards/referral-view.json */
export interface ReferralViewCard {
  readonly title: string;
  readonly meta: string;
  readonly notice: ReadonlyArray<NoticeView[number]>;
  /** The gateway assessment, or the triage due date: zero or one section. */
  readonly triage: readonly SectionView[];
  readonly buttons: ReadonlyArray<ButtonView & { readonly style: 'default' | 'positive' }>;
  readonly sections: readonly SectionView[];
  readonly audited: string;
}

/** cards/queue.json */
export interface QueueCard {
  readonly title: string;
  readonly summary: string;
  readonly items: ReadonlyArray<{
    readonly reference: string;
    readonly received: string;
    readonly due: string;
    readonly dueColor: 'Default' | 'Attention' | 'Warning';
    readonly openLabel: string;
    readonly actionData: ActionData;
    readonly submitData: ActionData;
  }>;
}

/** cards/case-list.json */
export interface CaseListCard {
  readonly title: string;
  readonly empty: string;
  readonly items: ReadonlyArray<{
    readonly reference: string;
    readonly person: string;
    readonly detail: string;
    readonly openLabel: string;
    readonly actionData: ActionData;
    readonly submitData: ActionData;
  }>;
}

/** cards/case.json */
export interface CaseCard {
  readonly title: string;
  /** The result of the last change, and standing notices (a pending transfer). */
  readonly notice: ReadonlyArray<NoticeView[number]>;
  readonly facts: ReadonlyArray<{ readonly title: string; readonly value: string }>;
  readonly vulnerability: {
    readonly title: string;
    readonly latest: string;
    readonly trend: NoticeView;
    readonly history: ReadonlyArray<{ readonly text: string }>;
  };
  readonly actions: {
    readonly title: string;
    readonly empty: string;
    readonly items: ReadonlyArray<{ readonly text: string; readonly color: 'Default' | 'Attention'; readonly buttons: readonly ButtonView[] }>;
  };
  readonly interventions: {
    readonly title: string;
    readonly empty: string;
    readonly items: ReadonlyArray<{ readonly text: string; readonly working: string; readonly buttons: readonly ButtonView[] }>;
  };
  readonly buttonRows: ReadonlyArray<{ readonly buttons: readonly ButtonView[] }>;
  readonly audited: string;
}

/** cards/case-form.json */
export interface CaseFormCard {
  readonly t: { readonly save: string; readonly cancel: string };
  readonly title: string;
  readonly context: string;
  readonly intro: string;
  readonly errorSummary: OptionalText;
  readonly fields: readonly StepFieldView[];
  readonly verb: string;
  readonly actionData: ActionData;
  readonly submitData: ActionData;
  readonly cancelVerb: string;
  readonly cancelData: ActionData;
  readonly cancelSubmitData: ActionData;
}

/** cards/chronology.json */
export interface ChronologyCard {
  readonly title: string;
  readonly pageLine: string;
  readonly entries: ReadonlyArray<{
    readonly heading: string;
    readonly by: string;
    readonly lines: ReadonlyArray<{ readonly text: string }>;
    readonly flags: ReadonlyArray<{ readonly text: string }>;
    readonly buttons: readonly ButtonView[];
  }>;
  readonly buttons: readonly ButtonView[];
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

/** cards/reminder.json: a reminder, a digest, or the `due` list. */
export interface ReminderCard {
  readonly title: string;
  readonly titleColor: 'Default' | 'Attention' | 'Warning';
  readonly lines: ReadonlyArray<{ readonly text: string }>;
  readonly items: ReadonlyArray<{ readonly heading: string; readonly detail: string; readonly color: 'Default' | 'Attention' | 'Warning'; readonly buttons: readonly ButtonView[] }>;
  readonly buttons: readonly ButtonView[];
}

/** cards/settings.json */
export interface SettingsCard {
  readonly t: { readonly save: string };
  readonly title: string;
  readonly notice: NoticeView;
  readonly intro: string;
  readonly label: string;
  readonly value: string;
  readonly choices: readonly ChoiceView[];
}

/**
 * cards/approval.json: a transfer's or access request's card. `refresh`
 * makes Teams ask again (verb approval.refresh) whenever one of `userIds`
 * looks at it, so each sees the current state and their own buttons.
 */
export interface ApprovalCard {
  readonly refresh: { readonly action: { readonly type: 'Action.Execute'; readonly verb: string; readonly data: ActionData }; readonly userIds: readonly string[] };
  readonly title: string;
  readonly status: string;
  readonly statusColor: 'Default' | 'Attention' | 'Good' | 'Warning';
  readonly notice: NoticeView;
  readonly facts: ReadonlyArray<{ readonly title: string; readonly value: string }>;
  readonly texts: ReadonlyArray<{ readonly label: string; readonly value: string }>;
  readonly errorSummary: OptionalText;
  readonly fields: readonly StepFieldView[];
  readonly footer: string;
  readonly buttons: ReadonlyArray<ButtonView & { readonly style: 'default' | 'positive' | 'destructive' }>;
}

/** cards/stats.json: a financial year's statistics, every figure already suppressed. */
export interface StatsCard {
  readonly title: string;
  readonly period: string;
  readonly notice: NoticeView;
  readonly headline: string;
  /** The bar chart as a `data:image/png` URL: zero or one. */
  readonly chart: readonly [] | readonly [{ readonly url: string; readonly altText: string }];
  readonly tables: ReadonlyArray<{ readonly title: string; readonly facts: ReadonlyArray<{ readonly title: string; readonly value: string }> }>;
  readonly change: {
    readonly title: string;
    /** The first row is the header. */
    readonly rows: ReadonlyArray<{ readonly label: string; readonly previous: string; readonly current: string; readonly change: string; readonly weight: 'Default' | 'Bolder' }>;
  };
  readonly notes: ReadonlyArray<{ readonly text: string }>;
  readonly buttons: readonly ButtonView[];
  /** A download link just issued: zero or one. */
  readonly links: ReadonlyArray<{ readonly title: string; readonly url: string }>;
}

/** cards/export.json: the one-use link to a subject-access export. */
export interface ExportCard {
  readonly title: string;
  readonly body: string;
  readonly openLabel: string;
  readonly url: string;
  readonly backLabel: string;
  readonly backData: ActionData;
  readonly backSubmitData: ActionData;
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
  queue: QueueCard;
  'case-list': CaseListCard;
  case: CaseCard;
  'case-form': CaseFormCard;
  chronology: ChronologyCard;
  reminder: ReminderCard;
  settings: SettingsCard;
  stats: StatsCard;
  approval: ApprovalCard;
  export: ExportCard;
}

export type CardName = keyof CardData;
export const cardNames: readonly CardName[] = [
  'referral-step',
  'referral-review',
  'referral-view',
  'referral-danger',
  'referral-ack',
  'message',
  'my-referrals',
  'drafts',
  'referral-notice',
  'queue',
  'case-list',
  'case',
  'case-form',
  'chronology',
  'reminder',
  'settings',
  'stats',
  'approval',
  'export',
];

const templates = new Map<CardName, ACData.Template>(
  cardNames.map((name) => [name, new ACData.Template(JSON.parse(readFileSync(join(cardsFolder, `${name}.json`), 'utf8')) as Json)]),
);

const inputTemplates = new Map<InputKind, ACData.Template>(
  inputKinds.map((kind) => [kind, new ACData.Template(JSON.parse(readFileSync(join(cardsFolder, 'fields', `${kind}.json`), 'utf8')) as Json)]),
);

/** Expands a template with its data. */
export function renderCard<N extends CardName>(name: N, data: CardData[N]): Json {
  const card = templates.get(name)!.expand({ $root: data }) as Json;
  delete card.$schema;
  return card;
}

/** Expands the input template for a field kind (cards/fields/<kind>.json), to place on the step card. */
export function renderInput<K extends InputKind>(kind: K, data: InputData[K]): Json {
  return inputTemplates.get(kind)!.expand({ $root: data }) as Json;
}

/** A verb button with its Action.Submit fallback data. */
export function button(title: string, verb: string, data: ActionData): ButtonView {
  return { title, verb, data, submitData: submitData(verb, data) };
}

/** Zero or one line of text for a template's optional element: none when the text is empty. */
export function optionalText(text: string): OptionalText {
  return text ? [{ text }] : [];
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
