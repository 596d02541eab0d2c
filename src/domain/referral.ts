/** Referral rules: references and statuses. */

export const referralStatuses = ['received', 'being_assessed', 'closed'] as const;
export type ReferralStatus = (typeof referralStatuses)[number];

export const REFERENCE_PATTERN = /^[A-Z]{2,5}-\d{4}-\d{4,6}$/;

/** PRV, 2026, 42 → PRV-2026-000042 */
export function formatReference(prefix: string, year: number, n: number): string {
  if (!/^[A-Z]{2,5}$/.test(prefix)) throw new Error(`bad reference prefix ${prefix}`);
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new Error(`reference number out of range: ${n}`);
  return `${prefix}-${year}-${String(n).padStart(6, '0')}`;
}

/** Normalises what a user typed as a reference; undefined when it is not one. */
export function parseReference(text: string): string | undefined {
  const ref = text.trim().toUpperCase();
  return REFERENCE_PATTERN.test(ref) ? ref : undefined;
}
