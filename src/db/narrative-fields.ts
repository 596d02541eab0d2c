/**
 * Where narrative free text is stored, and sealing it there. A field is
 * narrative when its form says so (`kind: 'textarea'`): the pathway
 * definitions decide, not a list of field ids here. Stored answers
 * (drafts, referrals) and chronology entries seal their narrative fields one
 * by one; the free-text columns below are sealed whole.
 *
 * Names and dates of birth are not sealed: the access search and the
 * officers' lists read them in SQL.
 */
import type { EntryKind } from '../domain/case.js';
import type { Answers, AnswerValue, PathwayDefinition, StepAnswers, StepDefinition } from '../domain/forms.js';
import { transferDecisionForm } from '../forms/approvals.js';
import { pathways } from '../forms/prevent.js';
import { fieldCipher, isEncrypted } from './field-crypto.js';

/** Free-text columns sealed whole. `appendOnlyTrigger`: the table refuses UPDATE except to re-seal (keys:rotate). */
export const encryptedTextColumns = [
  { place: 'triage_assessments.rationale', table: 'triage_assessments', column: 'rationale', appendOnlyTrigger: 'triage_assessments_no_update' },
  // A one-line field, but it names who the person was sent to.
  { place: 'triage_assessments.signposted_to', table: 'triage_assessments', column: 'signposted_to', appendOnlyTrigger: 'triage_assessments_no_update' },
  { place: 'transfers.reason', table: 'transfers', column: 'reason' },
  { place: 'transfers.new_address', table: 'transfers', column: 'new_address' },
  { place: 'transfers.decision_note', table: 'transfers', column: 'decision_note' },
  { place: 'access_requests.purpose_detail', table: 'access_requests', column: 'purpose_detail' },
  { place: 'access_requests.justification', table: 'access_requests', column: 'justification' },
  { place: 'access_requests.decision_note', table: 'access_requests', column: 'decision_note' },
  { place: 'retention_decisions.justification', table: 'retention_decisions', column: 'justification' },
  { place: 'retention_decisions.child_justification', table: 'retention_decisions', column: 'child_justification' },
  { place: 'deletion_requests.reason', table: 'deletion_requests', column: 'reason' },
  { place: 'deletion_requests.decision_note', table: 'deletion_requests', column: 'decision_note' },
] as const;
export type EncryptedTextPlace = (typeof encryptedTextColumns)[number]['place'];

/** jsonb columns of form answers whose narrative fields are sealed one by one. */
export const encryptedAnswerColumns = [
  { place: 'drafts.answers', table: 'drafts', column: 'answers', shape: 'answers' },
  { place: 'referrals.answers', table: 'referrals', column: 'answers', shape: 'answers' },
  { place: 'case_entries.data', table: 'case_entries', column: 'data', shape: 'entry', appendOnlyTrigger: 'case_entries_no_update' },
] as const;
export type AnswersPlace = 'drafts.answers' | 'referrals.answers';

const narrativeCache = new WeakMap<StepDefinition, ReadonlySet<string>>();

/** The ids of a form's narrative fields (`textarea`). */
export function narrativeFieldIds(step: StepDefinition): ReadonlySet<string> {
  let ids = narrativeCache.get(step);
  if (!ids) {
    ids = new Set(step.fields.filter((f) => f.kind === 'textarea').map((f) => f.id));
    narrativeCache.set(step, ids);
  }
  return ids;
}

/**
 * Seals a string value when its field is narrative, and also any other
 * string that merely looks like an envelope (someone typed `enc:v1:…` into
 * a one-line field): stored, it reads back as typed instead of failing.
 */
function sealValue(value: AnswerValue, narrative: boolean, context: string): AnswerValue {
  if (typeof value !== 'string' || value === '') return value;
  return narrative || isEncrypted(value) ? fieldCipher().encrypt(value, context) : value;
}

function openValue(value: unknown, context: string): unknown {
  return isEncrypted(value) ? fieldCipher().decrypt(value, context) : value;
}

function pathwayById(id: string): PathwayDefinition {
  const p = pathways[id];
  // Writing answers of a form we cannot read would store its free text unsealed.
  if (!p) throw new Error(`unknown pathway "${id}": cannot tell which answers are narrative`);
  return p;
}

const answerContext = (place: string, step: string, field: string) => `${place}:${step}.${field}`;

/** One step's answers, ready to store in `place`. */
export function sealStepAnswers(place: AnswersPlace, pathwayId: string, stepId: string, values: StepAnswers): StepAnswers {
  const step = pathwayById(pathwayId).steps.find((s) => s.id === stepId);
  const narrative = step ? narrativeFieldIds(step) : new Set<string>();
  const out: StepAnswers = {};
  for (const [field, value] of Object.entries(values)) out[field] = sealValue(value, narrative.has(field), answerContext(place, stepId, field));
  return out;
}

/** A whole set of answers (every step), ready to store in `place`. */
export function sealAnswers(place: AnswersPlace, pathwayId: string, answers: Answers): Answers {
  const out: Answers = {};
  for (const [stepId, values] of Object.entries(answers)) out[stepId] = sealStepAnswers(place, pathwayId, stepId, values ?? {});
  return out;
}

/** Stored answers opened: every sealed value, whatever the form says today (a field may have changed kind since). */
export function openAnswers(place: AnswersPlace, stored: unknown): Answers {
  const out: Answers = {};
  if (!stored || typeof stored !== 'object') return out;
  for (const [stepId, values] of Object.entries(stored as Record<string, unknown>)) {
    if (!values || typeof values !== 'object') continue;
    const step: StepAnswers = {};
    for (const [field, value] of Object.entries(values as Record<string, unknown>)) step[field] = openValue(value, answerContext(place, stepId, field)) as AnswerValue;
    out[stepId] = step;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Chronology entries

/**
 * The forms whose answers each kind of entry records (a correction records
 * the corrected form's answers and the correction form's). Kinds that record
 * no form: workflow steps holding ids and choices only.
 */
const entryForms: Record<EntryKind, (p: PathwayDefinition) => readonly StepDefinition[]> = {
  opened: () => [],
  consent: (p) => [p.caseForms.consent],
  vulnerability: (p) => [p.caseForms.vulnerability],
  intervention: (p) => [p.caseForms.intervention],
  interventionReview: (p) => [p.caseForms.interventionReview],
  action: (p) => [p.caseForms.action],
  actionComplete: (p) => [p.caseForms.actionComplete],
  actionReassign: (p) => [p.caseForms.actionReassign],
  note: (p) => [p.caseForms.note],
  closed: (p) => [p.caseForms.close],
  panel: (p) => [p.caseForms.panel],
  contact: (p) => [p.caseForms.contact],
  transfer: (p) => [p.caseForms.transfer],
  transferAccepted: () => [transferDecisionForm],
  transferDeclined: () => [transferDecisionForm],
  transferWithdrawn: () => [],
  taken: () => [],
};

let entryNarrative: Map<string, ReadonlySet<string>> | undefined;

/** Narrative field ids by entry kind, over every pathway (an entry does not know its pathway; over-sealing is harmless). */
function narrativeOfEntry(kind: string): ReadonlySet<string> {
  if (!entryNarrative) {
    entryNarrative = new Map();
    for (const [k, forms] of Object.entries(entryForms)) {
      const ids = new Set<string>();
      for (const p of Object.values(pathways)) for (const form of [...forms(p), p.caseForms.correction]) for (const id of narrativeFieldIds(form)) ids.add(id);
      entryNarrative.set(k, ids);
    }
  }
  const known = entryNarrative.get(kind);
  if (!known) throw new Error(`unknown chronology entry kind "${kind}": cannot tell which of its fields are narrative`);
  return known;
}

const entryContext = (field: string) => `case_entries.data:${field}`;

/** A chronology entry's data, ready to store. */
export function sealEntryData(kind: string, data: StepAnswers): StepAnswers {
  const narrative = narrativeOfEntry(kind);
  const out: StepAnswers = {};
  for (const [field, value] of Object.entries(data)) out[field] = sealValue(value, narrative.has(field), entryContext(field));
  return out;
}

/** Stored entry data opened. */
export function openEntryData(stored: unknown): StepAnswers {
  const out: StepAnswers = {};
  if (!stored || typeof stored !== 'object') return out;
  for (const [field, value] of Object.entries(stored as Record<string, unknown>)) out[field] = openValue(value, entryContext(field)) as AnswerValue;
  return out;
}

// ---------------------------------------------------------------------------
// Free-text columns

/** A free-text column's value, ready to store (null and empty stay as they are). */
export function sealText<T extends string | null | undefined>(place: EncryptedTextPlace, value: T): T {
  if (typeof value !== 'string' || value === '') return value;
  return fieldCipher().encrypt(value, place) as T;
}

/** A stored free-text column opened. */
export function openText<T extends string | null | undefined>(place: EncryptedTextPlace, stored: T): T {
  if (typeof stored !== 'string') return stored;
  return fieldCipher().decrypt(stored, place) as T;
}

const camel = (column: string) => column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * A row of `table` as drizzle reads it (camelCase keys), with every sealed
 * column opened: for code that reads whole rows rather than through the
 * repositories above (an export of everything held about a person).
 */
export function openStoredRow<T extends Record<string, unknown>>(table: string, row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const c of encryptedTextColumns) if (c.table === table && typeof out[camel(c.column)] === 'string') out[camel(c.column)] = fieldCipher().decrypt(out[camel(c.column)] as string, c.place);
  for (const c of encryptedAnswerColumns) {
    if (c.table !== table || !(camel(c.column) in out)) continue;
    out[camel(c.column)] = c.shape === 'answers' ? openAnswers(c.place, out[camel(c.column)]) : openEntryData(out[camel(c.column)]);
  }
  return out as T;
}

/** Re-seals one stored value of `context` under the current key: the rotation's step. Undefined when nothing changes. */
export function resealValue(value: unknown, context: string, narrative: boolean): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const cipher = fieldCipher();
  if (isEncrypted(value)) return cipher.needsRotation(value) ? cipher.encrypt(cipher.decrypt(value, context), context) : undefined;
  // Written before encryption existed: seal it now.
  return narrative ? cipher.encrypt(value, context) : undefined;
}

/** The context each stored answer, entry field or column value is sealed for (for keys:rotate). */
export const contexts = { answer: answerContext, entry: entryContext };

/** Narrative field ids of a stored answers' step, or of an entry kind (for keys:rotate). */
export const narrativeOf = {
  step(pathwayId: string, stepId: string): ReadonlySet<string> {
    const step = pathways[pathwayId]?.steps.find((s) => s.id === stepId);
    return step ? narrativeFieldIds(step) : new Set();
  },
  entry(kind: string): ReadonlySet<string> {
    return Object.prototype.hasOwnProperty.call(entryForms, kind) ? narrativeOfEntry(kind) : new Set();
  },
};
