/**
 * The case record's rules (DESIGN §3): which chronology entries are in force,
 * the current consent, the vulnerability trend, active interventions. Pure:
 * entries come in as data, today as a London date.
 */
import type { StepAnswers } from './forms.js';

export const triageOutcomes = ['no_further_action', 'signposted', 'channel', 'police_led', 'ct_policing'] as const;
export type TriageOutcome = (typeof triageOutcomes)[number];

export type CaseKind = 'channel' | 'police_led';

/** The outcomes that need work open a case; the others close the referral. */
export function caseKindFor(outcome: TriageOutcome): CaseKind | undefined {
  if (outcome === 'channel') return 'channel';
  if (outcome === 'police_led') return 'police_led';
  return undefined;
}

/** What each chronology entry records. */
export const entryKinds = [
  'opened',
  'consent',
  'vulnerability',
  'intervention',
  'interventionReview',
  'action',
  'actionComplete',
  'actionReassign',
  'note',
  'closed',
  'panel',
  'contact',
  /** A transfer to another area was asked for (the form's answers), and what became of it. */
  'transfer',
  'transferAccepted',
  'transferDeclined',
  'transferWithdrawn',
  /** An officer of the area took the case from the area queue. */
  'taken',
] as const;
export type EntryKind = (typeof entryKinds)[number];

/** Entries an officer may correct: the record of a judgement or a fact, not a workflow step. */
export const correctableKinds: readonly EntryKind[] = ['consent', 'vulnerability', 'intervention', 'interventionReview', 'note', 'contact'];


/** A chronology entry. Lists of entries come oldest first, in the order they were written. */
export interface CaseEntry {
  readonly id: string;
  readonly kind: EntryKind;
  /** Ties entries about one thing together: an intervention and its reviews, an action and its changes. */
  readonly subjectId: string | null;
  readonly correctsEntryId: string | null;
  readonly data: StepAnswers;
  readonly authorAadObjectId: string;
  readonly at: Date;
}

/** The entries in force: every entry not replaced by a correction. */
export function inForce(entries: readonly CaseEntry[]): CaseEntry[] {
  const corrected = new Set(entries.map((e) => e.correctsEntryId).filter((id): id is string => id !== null));
  return entries.filter((e) => !corrected.has(e.id));
}

/** The ids of entries that a later entry corrects. */
export function correctedIds(entries: readonly CaseEntry[]): ReadonlySet<string> {
  return new Set(entries.map((e) => e.correctsEntryId).filter((id): id is string => id !== null));
}

export interface Scores {
  readonly engagement: number;
  readonly intent: number;
  readonly capability: number;
}

export interface VulnerabilityAssessment extends Scores {
  readonly entryId: string;
  readonly assessedOn: string;
  readonly total: number;
}

export type Trend = 'first' | 'rising' | 'stable' | 'falling';

/** Vulnerability assessments in force, oldest first by the date assessed. */
export function vulnerabilityHistory(entries: readonly CaseEntry[]): VulnerabilityAssessment[] {
  return inForce(entries)
    .filter((e) => e.kind === 'vulnerability')
    .map((e) => {
      const engagement = Number(e.data.engagement);
      const intent = Number(e.data.intent);
      const capability = Number(e.data.capability);
      return { entryId: e.id, assessedOn: String(e.data.assessedOn), engagement, intent, capability, total: engagement + intent + capability, at: e.at };
    })
    .sort((a, b) => (a.assessedOn < b.assessedOn ? -1 : a.assessedOn > b.assessedOn ? 1 : a.at.getTime() - b.at.getTime()))
    .map(({ at: _at, ...rest }) => rest);
}

/**
 * Is the risk rising, stable or falling? The latest assessment's total
 * (engagement + intent + capability, 0–9) against the one before it: a
 * simple, explainable rule an officer can check by eye on the card.
 */
export function trendOf(history: readonly VulnerabilityAssessment[]): Trend {
  if (history.length < 2) return 'first';
  const latest = history[history.length - 1]!.total;
  const previous = history[history.length - 2]!.total;
  return latest > previous ? 'rising' : latest < previous ? 'falling' : 'stable';
}

/** The consent entry in force, latest by the date decided. */
export function currentConsent(entries: readonly CaseEntry[]): CaseEntry | undefined {
  return inForce(entries)
    .filter((e) => e.kind === 'consent')
    .sort((a, b) => String(a.data.decidedOn).localeCompare(String(b.data.decidedOn)) || a.at.getTime() - b.at.getTime())
    .at(-1);
}

export interface InterventionState {
  /** The id of the first entry: reviews and corrections point at it. */
  readonly id: string;
  /** The entry in force for the intervention itself. */
  readonly entry: CaseEntry;
  readonly type: string;
  readonly provider: string;
  readonly startOn: string;
  readonly endOn: string | undefined;
  /** The latest judgement (from the intervention or its latest review). */
  readonly working: string;
  readonly active: boolean;
}

/**
 * Interventions with their latest "working?" judgement and end date. A
 * correction keeps the subject id of the intervention it corrects, so
 * reviews stay attached.
 */
export function interventions(entries: readonly CaseEntry[], today: string): InterventionState[] {
  const live = inForce(entries);
  const out: InterventionState[] = [];
  for (const e of live) {
    if (e.kind !== 'intervention') continue;
    const id = e.subjectId ?? e.id;
    const reviews = live
      .filter((r) => r.kind === 'interventionReview' && r.subjectId === id)
      .sort((a, b) => a.at.getTime() - b.at.getTime());
    let working = String(e.data.working);
    let endOn = typeof e.data.endOn === 'string' ? e.data.endOn : undefined;
    for (const r of reviews) {
      working = String(r.data.working);
      if (typeof r.data.endOn === 'string') endOn = r.data.endOn;
    }
    out.push({ id, entry: e, type: String(e.data.type), provider: String(e.data.provider), startOn: String(e.data.startOn), endOn, working, active: endOn === undefined || endOn >= today });
  }
  return out.sort((a, b) => a.startOn.localeCompare(b.startOn));
}
