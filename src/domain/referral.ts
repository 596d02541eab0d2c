/** Referral rules: references and statuses. */

export const referralStatuses = ['received', 'being_assessed', 'closed'] as const;
export type ReferralStatus = (typeof referralStatuses)[number];

/** PREFIX-YYYY-NNNNNN (DESIGN §10); numbers are given by the database (see insertNumberedReferral). */
export const REFERENCE_PATTERN = /^[A-Z]{2,5}-\d{4}-\d{4,6}$/;

/** Normalises what a user typed as a reference; undefined when it is not one. */
export function parseReference(text: string): string | undefined {
  const ref = text.trim().toUpperCase();
  return REFERENCE_PATTERN.test(ref) ? ref : undefined;
}
