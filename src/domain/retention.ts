/**
 * How long records are kept (DESIGN §7). A pathway's policy is data
 * (src/forms/); this module turns it into review dates. Pure: dates are
 * London calendar dates (YYYY-MM-DD).
 */
import { addCalendarMonths } from './working-days.js';

export interface RetentionPolicy {
  /** Referrals closed at triage with no further action are reviewed this many years after closure. */
  readonly noFurtherActionYears: number;
  /** Everything else is reviewed this many years after its last activity. */
  readonly otherYears: number;
  /** Records about a person younger than this need a specific justification to keep. */
  readonly childUnder: number;
  /** A decision to keep a record sets its next review at most this many years on. */
  readonly maxRetainYears: number;
}

/**
 * The review date a record's history sets: 3 years after a no-further-action
 * closure, otherwise 6 years after the last activity (Prevent's figures).
 */
export function policyReviewDate(policy: RetentionPolicy, r: { closedNoFurtherActionOn?: string | undefined; lastActivityOn: string }): string {
  if (r.closedNoFurtherActionOn) return addCalendarMonths(r.closedNoFurtherActionOn, policy.noFurtherActionYears * 12);
  return addCalendarMonths(r.lastActivityOn, policy.otherYears * 12);
}

/** The latest next-review date a Retain decision may set. */
export function latestNextReview(policy: RetentionPolicy, today: string): string {
  return addCalendarMonths(today, policy.maxRetainYears * 12);
}

/** Whether keeping the record needs the child-specific justification. */
export function needsChildJustification(policy: RetentionPolicy, age: number | undefined): boolean {
  return age !== undefined && age < policy.childUnder;
}
