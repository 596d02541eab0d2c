/**
 * Transfers between areas and risk-based access requests (DESIGN §5, §6):
 * who may decide, what a grant covers, and when it ends. Pure: the clock
 * comes in as arguments.
 */
import type { Actor } from './directory.js';
import { isTrained } from './permissions.js';

export type TransferStatus = 'pending' | 'accepted' | 'declined' | 'withdrawn';
export type AccessStatus = 'pending' | 'granted' | 'declined' | 'withdrawn' | 'refused';

/** Why someone may ask to see a record. The last two are refused at once: see `refusedPurposes`. */
export const accessPurposes = ['safeguardingRisk', 'riskToOthers', 'statutoryDuty', 'other', 'employmentVetting', 'educationVetting'] as const;
export type AccessPurpose = (typeof accessPurposes)[number];

/**
 * A referral is not a criminal record: it is never disclosed for employment,
 * education (universities, colleges, schools' admissions) or any vetting.
 */
export const refusedPurposes: readonly AccessPurpose[] = ['employmentVetting', 'educationVetting'];

export const isRefusedPurpose = (p: string): boolean => (refusedPurposes as readonly string[]).includes(p);

/** What a grant may cover; `full` covers everything. */
export const accessScopes = ['summary', 'vulnerabilities', 'contacts', 'full'] as const;
export type AccessScope = (typeof accessScopes)[number];

export const MAX_GRANT_DAYS = 30;

/** The requester is warned this long before a grant ends. */
export const EXPIRY_WARNING_MS = 24 * 60 * 60 * 1000;

export function grantCovers(scopes: readonly string[], part: Exclude<AccessScope, 'full'>): boolean {
  return scopes.includes('full') || scopes.includes(part);
}

/** A grant runs `days` whole days from the decision. */
export function grantExpiresAt(decidedAt: Date, days: number): Date {
  return new Date(decidedAt.getTime() + days * 24 * 60 * 60 * 1000);
}

export function grantActive(g: { status: AccessStatus; expiresAt: Date | null }, now: Date): boolean {
  return g.status === 'granted' && g.expiresAt !== null && g.expiresAt.getTime() > now.getTime();
}

/** Why an actor may not decide a request for `areaId` raised by `requester`; undefined when they may. */
export type DecisionRefusal = 'ownRequest' | 'notSupervisor' | 'wrongArea' | 'trainingExpired';

export function decisionRefusal(actor: Actor, areaId: string, requesterAadObjectId: string, today: string): DecisionRefusal | undefined {
  // Separation of duties first: nobody approves their own request, whatever else they may do.
  if (actor.aadObjectId === requesterAadObjectId) return 'ownRequest';
  if (!actor.roles.includes('supervisor')) return 'notSupervisor';
  if (!actor.areas.includes(areaId)) return 'wrongArea';
  if (!isTrained(actor, today)) return 'trainingExpired';
  return undefined;
}

/** Who may ask for access to another area's record: trained officers and supervisors, and partner-agency staff. */
export function accessRequesterRole(actor: Actor, today: string): 'officer' | 'partner' | undefined {
  if ((actor.roles.includes('officer') || actor.roles.includes('supervisor')) && isTrained(actor, today)) return 'officer';
  if (actor.roles.includes('partner')) return 'partner';
  return undefined;
}

/** The lookup key of a person for the existence search: lower-cased last name and date of birth. */
export function personKey(lastName: unknown, dateOfBirth: unknown): string | null {
  if (typeof lastName !== 'string' || typeof dateOfBirth !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(dateOfBirth)) return null;
  const name = lastName.trim().toLowerCase().replace(/\s+/g, ' ');
  return name ? `${name}|${dateOfBirth}` : null;
}
