/**
 * Turns use-case results into card data, with every word from the message
 * catalogue. Text a user typed is escaped before it reaches a card.
 */
import type { Directory, Actor } from '../domain/directory.js';
import type { DomainErrorCode } from '../domain/errors.js';
import { QUEUE_OWNER, stepIndex, toRawStrings, type AnswerValue, type Answers, type FieldDefinition, type FieldError, type PathwayDefinition, type StepDefinition } from '../domain/forms.js';
import { formatCalendarDate, formatLondonDateTime } from '../domain/time.js';
import { isTrained, maySeeStatistics } from '../domain/permissions.js';
import { isMessageKey, type MessageKey, type Translate } from '../i18n/catalogue.js';
import type { WizardScreen } from '../app/wizard.js';
import type { Draft } from '../db/repositories/drafts.js';
import type { Referral } from '../db/repositories/referrals.js';
import type { OwnReferral } from '../app/referrals.js';
import { escapeMarkdown, optionalText, renderCard, renderInput, submitData, type Json, type SectionView, type StepFieldView } from './cards.js';

type Card = Record<string, unknown>;

export interface ViewContext {
  readonly t: Translate;
  readonly directory: Directory;
  readonly today: string;
  /** The officers an action may be given to, for forms with an officer choice. */
  readonly officers?: readonly string[];
  /** A transfer's possible destinations (every area but the record's). */
  readonly otherAreas?: readonly string[];
  /** Officers a transferred case may be given to (the area queue is offered too). */
  readonly newOwners?: readonly string[];
}

/** A catalogue lookup for keys built from form data; a missing key shows as itself (tests catch that). */
export function tk(t: Translate, key: string, params?: Record<string, string | number>): string {
  return isMessageKey(key) ? t(key, params) : key;
}

/** Optional means optional whatever else is answered: not required, not conditional, not one of a pair. */
function isPlainOptional(step: StepDefinition, field: FieldDefinition): boolean {
  if (field.required || field.kind === 'toggle' || field.requiredWhenPersonUnder !== undefined || step.neededPerButton) return false;
  return !(step.rules ?? []).some((r) => r.fields.includes(field.id));
}

function fieldLabel(v: ViewContext, step: StepDefinition, field: FieldDefinition): string {
  const label = tk(v.t, `field.${step.id}.${field.id}.label`);
  return isPlainOptional(step, field) ? `${label} ${v.t('wizard.optional')}` : label;
}

/** Officers read the referral about a third person: "About the referrer", not "About you". */
function audienceText(v: ViewContext, audience: Audience, key: string): string {
  if (audience === 'officer' && isMessageKey(`officer.${key}`)) return tk(v.t, `officer.${key}`);
  return tk(v.t, key);
}

export type Audience = 'referrer' | 'officer';

/** A "yes" to immediate danger keeps the 999 reminder on every later card. */
function dangerBanner(v: ViewContext, pathway: PathwayDefinition, answers: Answers): string {
  const step = pathway.steps.find((s) => s.dangerField);
  return step && answers[step.id]?.[step.dangerField!] === 'yes' ? v.t('danger.banner') : '';
}

function choiceTitle(v: ViewContext, field: FieldDefinition, value: string): string {
  if (field.dynamicChoices === 'areas' || field.dynamicChoices === 'otherAreas') return v.directory.area(value)?.name ?? value;
  if (field.dynamicChoices === 'newOwner' && value === QUEUE_OWNER) return v.t('transfer.owner.queue');
  if (field.dynamicChoices === 'officers' || field.dynamicChoices === 'newOwner') return escapeMarkdown(v.directory.person(value)?.name ?? value);
  return tk(v.t, `choice.${field.choiceSet}.${value}`);
}

function choiceValues(v: ViewContext, field: FieldDefinition): readonly string[] {
  if (field.dynamicChoices === 'areas') return v.directory.areas.map((a) => a.id);
  if (field.dynamicChoices === 'otherAreas') return v.otherAreas ?? [];
  if (field.dynamicChoices === 'officers') return v.officers ?? [];
  if (field.dynamicChoices === 'newOwner') return [...(v.newOwners ?? []), QUEUE_OWNER];
  return field.choices ?? [];
}

function errorText(v: ViewContext, e: FieldError | undefined): string {
  return e ? tk(v.t, e.key, e.params) : '';
}

export function fieldView(v: ViewContext, step: StepDefinition, field: FieldDefinition, value: string, error: FieldError | undefined): StepFieldView {
  const helpKey = `field.${step.id}.${field.id}.help`;
  return {
    input: fieldInput(v, step, field, value),
    help: optionalText(isMessageKey(helpKey) ? v.t(helpKey) : ''),
    error: optionalText(errorText(v, error)),
  };
}

/** The field's input, expanded from its kind's template with the raw string to put back. */
function fieldInput(v: ViewContext, step: StepDefinition, field: FieldDefinition, value: string): Json {
  const id = field.id;
  const label = fieldLabel(v, step, field);
  const placeholderKey = `field.${step.id}.${field.id}.placeholder`;
  const placeholder = isMessageKey(placeholderKey) ? v.t(placeholderKey) : field.kind === 'choice' ? v.t('wizard.choose') : '';
  const choices = () => choiceValues(v, field).map((c) => ({ title: choiceTitle(v, field, c), value: c }));
  switch (field.kind) {
    case 'text':
      return renderInput('text', { id, label, value, placeholder, maxLength: field.maxLength ?? 200 });
    case 'textarea':
      return renderInput('textarea', { id, label, value, placeholder, maxLength: field.maxLength ?? 4000 });
    case 'date':
      return renderInput('date', { id, label, value, max: field.notFuture ? v.today : '2100-12-31' });
    case 'number':
      return renderInput('number', { id, label, value: /^\d+$/.test(value) ? Number(value) : null, min: field.min ?? 0, max: field.max ?? 999 });
    case 'choice': {
      const list = choices();
      return renderInput('choice', { id, label, value, style: list.length <= 4 ? 'expanded' : 'compact', placeholder, choices: list });
    }
    case 'multichoice':
      return renderInput('multichoice', { id, label, value, choices: choices() });
    case 'toggle':
      return renderInput('toggle', { id, label, title: tk(v.t, `field.${step.id}.${field.id}.title`), value });
  }
}

function progress(v: ViewContext, pathway: PathwayDefinition, step: StepDefinition): string {
  return v.t('wizard.stepOf', { n: stepIndex(pathway, step.id) + 1, total: pathway.steps.length });
}

/** How a saved answer reads on the review and officer cards. */
export function displayValue(v: ViewContext, field: FieldDefinition, value: AnswerValue | undefined): string {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return v.t('wizard.notAnswered');
  switch (field.kind) {
    case 'choice':
      return choiceTitle(v, field, String(value));
    case 'multichoice':
      return (value as string[]).map((c) => choiceTitle(v, field, c)).join(', ');
    case 'toggle':
      return value === true ? v.t('choice.yesNo.yes') : v.t('choice.yesNo.no');
    case 'date':
      return formatCalendarDate(String(value));
    case 'textarea':
      // A single newline is not a line break in Markdown: keep the lines the person typed.
      return escapeMarkdown(String(value)).replace(/\r?\n/g, '\n\n');
    default:
      return escapeMarkdown(String(value));
  }
}

function isAnswered(value: AnswerValue | undefined): boolean {
  return !(value === undefined || value === '' || (Array.isArray(value) && value.length === 0));
}

/**
 * Every non-review step's answers as sections (review card, officer's view).
 * Optional questions left blank are left out; a required one shows "Not answered".
 */
export function answerSections(v: ViewContext, pathway: PathwayDefinition, answers: Answers, audience: Audience): SectionView[] {
  return pathway.steps
    .filter((s) => !s.review)
    .map((step) => ({
      title: audienceText(v, audience, `step.${step.id}.title`),
      answers: step.fields
        .filter((f) => f.required || isAnswered(answers[step.id]?.[f.id]))
        .map((f) => ({ label: audienceText(v, audience, `field.${step.id}.${f.id}.label`), value: displayValue(v, f, answers[step.id]?.[f.id]) })),
    }));
}

/** The card for a wizard screen. */
export function wizardCard(v: ViewContext, screen: WizardScreen): Card {
  switch (screen.kind) {
    case 'step':
      return screen.step.review ? reviewCard(v, screen) : stepCard(v, screen);
    case 'danger': {
      const actionData = { draftId: screen.draft.id };
      return renderCard('referral-danger', {
        t: { continue: v.t('danger.continue') },
        title: v.t('danger.title'),
        body: v.t('danger.body'),
        after: v.t('danger.after'),
        actionData,
        continueSubmitData: submitData('wizard.resume', actionData),
      });
    }
    case 'saved':
      return messageCard(v.t('saved.title'), [v.t('saved.body')], [{ title: v.t('welcome.drafts'), command: 'drafts' }]);
    case 'submitted':
      return ackCard(v, screen.referral);
  }
}

function stepCard(v: ViewContext, screen: Extract<WizardScreen, { kind: 'step' }>): Card {
  const { pathway, step, draft } = screen;
  const actionData = { draftId: draft.id, step: step.id, fromReview: screen.fromReview ? '1' : '' };
  const hasErrors = Object.keys(screen.errors).length > 0;
  return renderCard('referral-step', {
    t: { next: v.t('wizard.next'), back: v.t('wizard.back'), save: v.t('wizard.save') },
    dangerBanner: optionalText(step.dangerField ? '' : dangerBanner(v, pathway, draft.answers)),
    progress: progress(v, pathway, step),
    title: tk(v.t, `step.${step.id}.title`),
    intro: tk(v.t, `step.${step.id}.intro`),
    errorSummary: optionalText(hasErrors ? v.t('wizard.errorSummary') : ''),
    fields: step.fields.map((f) => fieldView(v, step, f, screen.values[f.id] ?? '', screen.errors[f.id])),
    canGoBack: stepIndex(pathway, step.id) > 0,
    actionData,
    nextSubmitData: submitData('wizard.next', actionData),
    backSubmitData: submitData('wizard.back', actionData),
    saveSubmitData: submitData('wizard.save', actionData),
  });
}

function reviewCard(v: ViewContext, screen: Extract<WizardScreen, { kind: 'step' }>): Card {
  const { pathway, step, draft } = screen;
  const declaration = step.fields[0]!;
  const hasErrors = Object.keys(screen.errors).length > 0;
  const actionData = { draftId: draft.id };
  const previous = pathway.steps[stepIndex(pathway, step.id) - 1]!;
  const backData = { draftId: draft.id, step: previous.id };
  const editable = pathway.steps.filter((s) => !s.review);
  return renderCard('referral-review', {
    t: { submit: v.t('wizard.submit'), back: v.t('wizard.back') },
    dangerBanner: optionalText(dangerBanner(v, pathway, draft.answers)),
    progress: progress(v, pathway, step),
    title: v.t('step.review.title'),
    intro: v.t('step.review.intro'),
    errorSummary: optionalText(hasErrors ? v.t('wizard.errorSummary') : ''),
    sections: answerSections(v, pathway, draft.answers, 'referrer').map((s, i) => {
      const editData = { draftId: draft.id, step: editable[i]!.id };
      return { ...s, editLabel: v.t('wizard.edit'), editData, editSubmitData: submitData('wizard.edit', editData) };
    }),
    declaration: {
      label: fieldLabel(v, step, declaration),
      title: tk(v.t, `field.${step.id}.${declaration.id}.title`),
      value: screen.values[declaration.id] ?? toRawStrings(draft.answers[step.id] ?? {})[declaration.id] ?? 'false',
      error: optionalText(errorText(v, screen.errors[declaration.id])),
    },
    actionData,
    submitSubmitData: submitData('wizard.submit', actionData),
    backData,
    backSubmitData: submitData('wizard.edit', backData),
  });
}

export function ackCard(v: ViewContext, referral: Referral): Card {
  return renderCard('referral-ack', {
    t: { myReferrals: v.t('ack.myReferrals') },
    title: v.t('ack.title'),
    referenceLine: v.t('ack.reference', { reference: referral.reference }),
    nextSteps: [v.t('ack.next1'), v.t('ack.next2'), v.t('ack.next3')],
  });
}

export function messageCard(
  title: string,
  lines: readonly string[],
  buttons: ReadonlyArray<{ title: string; command: string }> = [],
  titleColor: 'Default' | 'Attention' | 'Good' = 'Default',
): Card {
  return renderCard('message', { title, titleColor, lines, buttons });
}

/**
 * The card for a failure. `params` fill the message; `params.about` picks a
 * more specific message where the catalogue has one (`error.forbidden.statistics`).
 */
export function errorCard(v: ViewContext, code: DomainErrorCode | 'unknownAction' | 'generic', params: Record<string, string> = {}): Card {
  const specific = params.about ? `error.${code}.${params.about}` : '';
  const text = isMessageKey(specific) ? v.t(specific, params) : v.t(`error.${code}`, params);
  return messageCard(v.t('error.title'), [text], [{ title: v.t('help.cmd.help'), command: 'help' }], 'Attention');
}

export function welcomeCard(v: ViewContext): Card {
  return messageCard(v.t('welcome.title'), [v.t('welcome.body'), `**${v.t('welcome.danger')}**`], [
    { title: v.t('welcome.refer'), command: 'refer' },
    { title: v.t('welcome.drafts'), command: 'drafts' },
    { title: v.t('welcome.myReferrals'), command: 'my referrals' },
  ]);
}

const isCaseRole = (actor: Actor): boolean => actor.roles.includes('officer') || actor.roles.includes('supervisor');

export function helpCard(v: ViewContext, actor: Actor, unknownText?: string): Card {
  const lines = [
    ...(unknownText !== undefined ? [v.t('help.unknown', { text: escapeMarkdown(unknownText.slice(0, 60)) })] : []),
    v.t('help.intro'),
    `**refer** — ${v.t('help.cmd.refer')}`,
    `**drafts** — ${v.t('help.cmd.drafts')}`,
    `**my referrals** — ${v.t('help.cmd.myReferrals')}`,
    ...(isCaseRole(actor)
      ? [
          `**${v.t('help.officers')}**`,
          `**queue** — ${v.t('help.cmd.queue')}`,
          `**cases** — ${v.t('help.cmd.cases')}`,
          `**due** — ${v.t('help.cmd.due')}`,
          `**case PRV-2026-000042** — ${v.t('help.cmd.case')}`,
          `**approvals** — ${v.t('help.cmd.approvals')}`,
          `**access** — ${v.t('help.cmd.access')}`,
          `**reviews** — ${v.t('help.cmd.reviews')}`,
        ]
      : actor.roles.includes('partner')
        ? [`**access** — ${v.t('help.cmd.access')}`, `**approvals** — ${v.t('help.cmd.approvals')}`]
        : []),
    ...(maySeeStatistics(actor) ? [`**${v.t('help.statistics')}**`, `**stats** — ${v.t('help.cmd.stats')}`] : []),
    `**settings** — ${v.t('help.cmd.settings')}`,
    `**whoami** — ${v.t('help.cmd.whoami')}`,
    `**help** — ${v.t('help.cmd.help')}`,
  ];
  return messageCard(v.t('help.title'), lines, [
    ...(isCaseRole(actor)
      ? [
          { title: v.t('officer.queue'), command: 'queue' },
          { title: v.t('officer.cases'), command: 'cases' },
          { title: v.t('approvals.title'), command: 'approvals' },
        ]
      : actor.roles.includes('partner')
        ? [{ title: v.t('approvals.requestAccess'), command: 'access' }]
        : []),
    ...(maySeeStatistics(actor) ? [{ title: v.t('stats.button'), command: 'stats' }] : []),
    { title: v.t('welcome.refer'), command: 'refer' },
    { title: v.t('welcome.drafts'), command: 'drafts' },
    { title: v.t('welcome.myReferrals'), command: 'my referrals' },
  ]);
}

export function whoamiCard(v: ViewContext, actor: Actor): Card {
  const areas = actor.areas.map((a) => v.directory.area(a)?.name ?? a);
  const lines = [
    `${v.t('whoami.name')}: ${escapeMarkdown(actor.name)}`,
    `${v.t('whoami.roles')}: ${actor.roles.map((r) => v.t(`role.${r}`)).join(', ')}`,
    `${v.t('whoami.areas')}: ${areas.length ? areas.join(', ') : v.t('whoami.none')}`,
    ...(actor.trainedUntil ? [`${v.t('whoami.trainedUntil')}: ${formatCalendarDate(actor.trainedUntil)}`] : []),
    ...(!actor.listed ? [v.t('whoami.notListed')] : []),
    ...(actor.trainedUntil && !isTrained(actor, v.today) ? [v.t('whoami.trainingLapsed')] : []),
  ];
  return messageCard(v.t('whoami.title'), lines);
}

export function myReferralsCard(v: ViewContext, rows: readonly OwnReferral[]): Card {
  return renderCard('my-referrals', {
    title: v.t('myReferrals.title'),
    empty: rows.length === 0 ? v.t('myReferrals.none') : '',
    items: rows.map((r) => ({ reference: r.reference, submitted: v.t('myReferrals.item', { submitted: formatLondonDateTime(r.submittedAt) }), status: v.t(`status.${r.status}`) })),
  });
}

/** `drafts`, or `refer` when unfinished drafts exist (then with "Start a new referral"). */
export function draftsCard(v: ViewContext, drafts: readonly Draft[], pathwayOf: (d: Draft) => PathwayDefinition | undefined, opts: { offerNew?: boolean } = {}): Card {
  return renderCard('drafts', {
    t: { startNew: v.t('drafts.startNew') },
    title: v.t('drafts.title'),
    empty: drafts.length === 0 ? v.t('drafts.none') : '',
    intro: opts.offerNew && drafts.length > 0 ? v.t('drafts.openIntro') : '',
    startNew: opts.offerNew === true || drafts.length === 0,
    items: drafts.map((d) => {
      const p = pathwayOf(d);
      const person = p ? d.answers[p.ageFields.step] : undefined;
      const name = [person?.firstName, person?.lastName].filter((x) => typeof x === 'string' && x).join(' ');
      const actionData = { draftId: d.id };
      return {
        person: name ? v.t('drafts.person', { name: escapeMarkdown(name) }) : v.t('drafts.personUnknown'),
        detail: v.t('drafts.item', { updated: formatLondonDateTime(d.updatedAt), step: tk(v.t, `step.${d.currentStep}.title`) }),
        continueLabel: v.t('drafts.continue'),
        actionData,
        submitData: submitData('wizard.resume', actionData),
      };
    }),
  });
}

/** To the referrer: the status moved; never the outcome or why (DESIGN §2). */
export function statusNoticeCard(v: ViewContext, p: { reference: string; status: string }): Card {
  const status = isMessageKey(`status.${p.status}`) ? v.t(`status.${p.status}` as MessageKey) : p.status;
  return messageCard(
    v.t('notice.status.title', { reference: p.reference }),
    [p.status === 'closed' ? v.t('notice.status.closedBody') : v.t('notice.status.body', { status })],
    [{ title: v.t('welcome.myReferrals'), command: 'my referrals' }],
  );
}

export function noticeCard(v: ViewContext, p: { reference: string; areaId: string; submittedAt: string }): Card {
  const actionData = { reference: p.reference };
  return renderCard('referral-notice', {
    t: { open: v.t('notice.newReferral.open') },
    title: v.t('notice.newReferral.title', { area: v.directory.area(p.areaId)?.name ?? p.areaId }),
    body: v.t('notice.newReferral.body', { reference: p.reference, submitted: formatLondonDateTime(new Date(p.submittedAt)) }),
    actionData,
    submitData: submitData('referral.open', actionData),
  });
}


