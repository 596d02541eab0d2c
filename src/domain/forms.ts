/**
 * The wizard engine's rules: a pathway's form is data (src/forms/), and this
 * module validates answers against it. Pure: no Teams, SQL or clock.
 */

import type { RetentionPolicy } from './retention.js';

export type FieldKind = 'text' | 'textarea' | 'choice' | 'multichoice' | 'date' | 'number' | 'toggle';

/** Named validators a form definition may refer to. */
export type TextPattern = 'ukPostcode' | 'phone';

export interface FieldDefinition {
  readonly id: string;
  readonly kind: FieldKind;
  readonly required?: boolean;
  /** Required only when the person is under this age (computed from date of birth or approximate age). */
  readonly requiredWhenPersonUnder?: number;
  /** Choice set name: labels come from the catalogue as `choice.<set>.<value>`. */
  readonly choiceSet?: string;
  /** Static choice values; omitted when `dynamicChoices` is set. */
  readonly choices?: readonly string[];
  /** Choices supplied at run time: the directory's areas, or the officers of the record's area. */
  readonly dynamicChoices?: DynamicChoiceSet;
  /** Required when another field of the same step has one of these values. */
  readonly requiredWhen?: { readonly field: string; readonly in: readonly string[] };
  readonly maxLength?: number;
  readonly pattern?: TextPattern;
  readonly min?: number;
  readonly max?: number;
  /** Dates: must not be in the future. */
  readonly notFuture?: boolean;
  /** Dates: must not be in the past (due dates). */
  readonly notPast?: boolean;
  /** Prefilled from the actor's Teams profile. */
  readonly prefill?: 'actorName';
}

/**
 * Choices supplied at run time: every area; the areas other than the
 * record's (a transfer's destination); the officers of the record's area;
 * and a transfer's new owner (the receiving area's officers, or its queue).
 */
export type DynamicChoiceSet = 'areas' | 'otherAreas' | 'officers' | 'newOwner';

/** The `newOwner` choice that leaves a transferred case in the receiving area's queue. */
export const QUEUE_OWNER = 'queue';

export type StepRule =
  | {
      readonly kind: 'atLeastOne';
      readonly fields: readonly string[];
      /** Catalogue key of the message shown beside the first field. */
      readonly messageKey: string;
    }
  | {
      /** The second date, when given, is on or after the first (start and end). */
      readonly kind: 'dateOrder';
      readonly fields: readonly [string, string];
      /** Catalogue key of the message shown beside the second field. */
      readonly messageKey: string;
    };

export interface StepDefinition {
  readonly id: string;
  readonly fields: readonly FieldDefinition[];
  readonly rules?: readonly StepRule[];
  /** A "yes" to this field shows the emergency (call 999) card before going on. */
  readonly dangerField?: string;
  /** The review step shows the whole referral above its own fields. */
  readonly review?: boolean;
  /**
   * Which fields are needed depends on the button pressed (Accept needs an
   * owner, Decline a reason): the labels say so, so none is marked optional.
   */
  readonly neededPerButton?: boolean;
}

export interface PathwayDefinition {
  readonly id: string;
  /** Reference prefix, e.g. PRV → PRV-2026-000042. */
  readonly referencePrefix: string;
  readonly steps: readonly StepDefinition[];
  /** Where the person's area is answered: routes the referral. */
  readonly areaField: { readonly step: string; readonly field: string };
  /** Where age is answered, for `requiredWhenPersonUnder`. */
  readonly ageFields: { readonly step: string; readonly dateOfBirth: string; readonly approximateAge: string };
  /** Where the referrer's name is answered. */
  readonly referrerNameField: { readonly step: string; readonly field: string };
  /** Where the person's names are answered (shown on officers' lists). */
  readonly personNameFields: { readonly step: string; readonly first: string; readonly last: string };
  /** The gateway assessment is due this many working days after receipt. */
  readonly triageWorkingDays: number;
  /** Closing a Channel case schedules review actions this many months later. */
  readonly channelReviewMonths: readonly number[];
  /** How long its records are kept before review (DESIGN §7). */
  readonly retention: RetentionPolicy;
  /** The officers' forms (triage, consent, vulnerability…), rendered and validated like wizard steps. */
  readonly caseForms: Readonly<Record<CaseFormId, StepDefinition>>;
  /**
   * Which answers feed the de-identified statistics record (DESIGN §9). Age
   * comes from `ageFields` and area from `areaField`; the gateway outcome is
   * the triage form's field, and a panel decision of `value` counts the
   * referral as adopted (a part of the `outcome` it follows). Each names a
   * choice field, so the categories and their labels are the form's own.
   */
  readonly statisticsFields: {
    readonly sector: { readonly step: string; readonly field: string };
    readonly concernType: { readonly step: string; readonly field: string };
    readonly gender: { readonly step: string; readonly field: string };
    readonly outcome: { readonly form: CaseFormId; readonly field: string };
    readonly adopted: { readonly form: CaseFormId; readonly field: string; readonly value: string; readonly outcome: string };
  };
}

/** The officers' forms every pathway defines. */
export const caseFormIds = [
  'triage',
  'consent',
  'vulnerability',
  'intervention',
  'interventionReview',
  'action',
  'actionComplete',
  'actionReassign',
  'note',
  'close',
  'panel',
  'contact',
  'transfer',
  'correction',
] as const;
export type CaseFormId = (typeof caseFormIds)[number];

export type AnswerValue = string | number | boolean | string[];
export type StepAnswers = Record<string, AnswerValue>;
/** All of a draft's answers, by step id. */
export type Answers = Record<string, StepAnswers>;

/** A message for the user: a catalogue key and its parameters. */
export interface FieldError {
  readonly key: string;
  readonly params?: Record<string, string | number>;
}

export type ValidationResult =
  | { readonly ok: true; readonly values: StepAnswers }
  | { readonly ok: false; readonly errors: Record<string, FieldError>; readonly values: Record<string, string> };

export interface ValidationContext {
  /** Today in Europe/London, YYYY-MM-DD. */
  readonly today: string;
  /** Answers already saved in other steps (for cross-step rules like age). */
  readonly answers: Answers;
  readonly dynamicChoices: {
    readonly areas: readonly string[];
    readonly otherAreas?: readonly string[];
    readonly officers?: readonly string[];
    /** Officers of the receiving area; `QUEUE_OWNER` is added by `choicesFor`. */
    readonly newOwners?: readonly string[];
  };
}

/** `complete` enforces required fields; `partial` (Back, Save and finish later) checks only what was given. */
export type ValidationMode = 'complete' | 'partial';

const DEFAULT_TEXT_MAX = 200;
const DEFAULT_TEXTAREA_MAX = 4000;
const patterns: Record<TextPattern, RegExp> = {
  ukPostcode: /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i,
  phone: /^\+?[\d ()-]{7,20}$/,
};

export function findStep(pathway: PathwayDefinition, stepId: string): StepDefinition | undefined {
  return pathway.steps.find((s) => s.id === stepId);
}

export function stepIndex(pathway: PathwayDefinition, stepId: string): number {
  return pathway.steps.findIndex((s) => s.id === stepId);
}

export function choicesFor(field: FieldDefinition, ctx: Pick<ValidationContext, 'dynamicChoices'>): readonly string[] {
  if (field.dynamicChoices === 'areas') return ctx.dynamicChoices.areas;
  if (field.dynamicChoices === 'otherAreas') return ctx.dynamicChoices.otherAreas ?? [];
  if (field.dynamicChoices === 'officers') return ctx.dynamicChoices.officers ?? [];
  if (field.dynamicChoices === 'newOwner') return [...(ctx.dynamicChoices.newOwners ?? []), QUEUE_OWNER];
  return field.choices ?? [];
}

/** Whole years between a YYYY-MM-DD date of birth and today. */
export function ageOn(dateOfBirth: string, today: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = today.split('-').map(Number) as [number, number, number];
  return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
}

/** The person's age from the answers, if known. */
export function personAge(pathway: PathwayDefinition, answers: Answers, today: string): number | undefined {
  const step = answers[pathway.ageFields.step] ?? {};
  const dob = step[pathway.ageFields.dateOfBirth];
  if (typeof dob === 'string' && isValidDate(dob)) return ageOn(dob, today);
  const approx = step[pathway.ageFields.approximateAge];
  return typeof approx === 'number' ? approx : undefined;
}

function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function isRequired(field: FieldDefinition, pathway: PathwayDefinition, answers: Answers, today: string, stepValues: StepAnswers): boolean {
  if (field.required) return true;
  if (field.requiredWhen) {
    const other = stepValues[field.requiredWhen.field];
    return typeof other === 'string' && field.requiredWhen.in.includes(other);
  }
  if (field.requiredWhenPersonUnder !== undefined) {
    const age = personAge(pathway, answers, today);
    return age !== undefined && age < field.requiredWhenPersonUnder;
  }
  return false;
}

/**
 * Validates one step's raw card input (untrusted: anything may be missing or
 * of the wrong type). Unknown keys are ignored. On failure the raw strings
 * come back so the card can be re-shown as the user left it.
 */
export function validateStep(
  pathway: PathwayDefinition,
  step: StepDefinition,
  raw: Record<string, unknown>,
  ctx: ValidationContext,
  mode: ValidationMode,
): ValidationResult {
  const errors: Record<string, FieldError> = {};
  const values: StepAnswers = {};
  const echo: Record<string, string> = {};
  // Age rules may depend on this very step's answers.
  const answersWithThis: Answers = { ...ctx.answers, [step.id]: {} };

  for (const field of step.fields) {
    const input = raw[field.id];
    if (typeof input === 'string') echo[field.id] = input.slice(0, (field.maxLength ?? DEFAULT_TEXTAREA_MAX) + 1);
    if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) continue;
    if (typeof input !== 'string') {
      errors[field.id] = { key: 'error.field.invalid' };
      continue;
    }
    const parsed = parseField(field, input.trim(), ctx);
    if ('error' in parsed) errors[field.id] = parsed.error;
    else {
      values[field.id] = parsed.value;
      (answersWithThis[step.id] as StepAnswers)[field.id] = parsed.value;
    }
  }

  if (mode === 'complete') {
    for (const field of step.fields) {
      if (errors[field.id] || values[field.id] !== undefined) continue;
      if (isRequired(field, pathway, answersWithThis, ctx.today, values)) errors[field.id] = { key: 'error.field.required' };
    }
    for (const field of step.fields) {
      // A required toggle is a declaration: it must be switched on.
      if (field.kind === 'toggle' && field.required && values[field.id] === false) errors[field.id] = { key: 'error.field.declaration' };
    }
    for (const rule of step.rules ?? []) {
      if (rule.kind === 'atLeastOne' && !rule.fields.some((f) => values[f] !== undefined || errors[f])) {
        const first = rule.fields[0];
        if (first !== undefined) errors[first] = { key: rule.messageKey };
      }
    }
  }
  for (const rule of step.rules ?? []) {
    if (rule.kind !== 'dateOrder') continue;
    const [from, to] = rule.fields;
    const a = values[from];
    const b = values[to];
    if (typeof a === 'string' && typeof b === 'string' && b < a && !errors[to]) errors[to] = { key: rule.messageKey };
  }

  return Object.keys(errors).length > 0 ? { ok: false, errors, values: echo } : { ok: true, values };
}

type Parsed = { value: AnswerValue } | { error: FieldError };

function parseField(field: FieldDefinition, input: string, ctx: ValidationContext): Parsed {
  switch (field.kind) {
    case 'text':
    case 'textarea': {
      const max = field.maxLength ?? (field.kind === 'text' ? DEFAULT_TEXT_MAX : DEFAULT_TEXTAREA_MAX);
      // A pattern's own message says more than a length limit would.
      if (field.pattern && !patterns[field.pattern].test(input)) return { error: { key: `error.field.pattern.${field.pattern}` } };
      if (input.length > max) return { error: { key: 'error.field.tooLong', params: { max } } };
      return { value: field.pattern === 'ukPostcode' ? input.toUpperCase() : input };
    }
    case 'choice': {
      if (!choicesFor(field, ctx).includes(input)) return { error: { key: 'error.field.choice' } };
      return { value: input };
    }
    case 'multichoice': {
      const picked = [...new Set(input.split(',').map((s) => s.trim()).filter(Boolean))];
      const allowed = choicesFor(field, ctx);
      if (picked.some((p) => !allowed.includes(p))) return { error: { key: 'error.field.choice' } };
      return { value: picked };
    }
    case 'date': {
      if (!isValidDate(input)) return { error: { key: 'error.field.date' } };
      if (field.notFuture && input > ctx.today) return { error: { key: 'error.field.dateFuture' } };
      if (field.notPast && input < ctx.today) return { error: { key: 'error.field.datePast' } };
      if (input < '1900-01-01') return { error: { key: 'error.field.date' } };
      return { value: input };
    }
    case 'number': {
      if (!/^\d{1,3}$/.test(input)) return { error: { key: 'error.field.number', params: { min: field.min ?? 0, max: field.max ?? 999 } } };
      const n = Number(input);
      if ((field.min !== undefined && n < field.min) || (field.max !== undefined && n > field.max))
        return { error: { key: 'error.field.number', params: { min: field.min ?? 0, max: field.max ?? 999 } } };
      return { value: n };
    }
    case 'toggle': {
      if (input !== 'true' && input !== 'false') return { error: { key: 'error.field.invalid' } };
      return { value: input === 'true' };
    }
  }
}

/**
 * Checks a whole draft before submission. Returns the first step with a
 * problem (the user is sent back there), or undefined when all is complete.
 */
export function firstIncompleteStep(
  pathway: PathwayDefinition,
  answers: Answers,
  ctx: Omit<ValidationContext, 'answers'>,
): string | undefined {
  for (const step of pathway.steps) {
    const raw = toRawStrings(answers[step.id] ?? {});
    const result = validateStep(pathway, step, raw, { ...ctx, answers }, 'complete');
    if (!result.ok) return step.id;
  }
  return undefined;
}

/** Saved answers back to the strings a card shows and submits. */
export function toRawStrings(values: StepAnswers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) out[k] = Array.isArray(v) ? v.join(',') : String(v);
  return out;
}
