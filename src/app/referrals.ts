/** Reading referrals: a referrer's own list (status only) and an officer's view of one (audited). */
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
import { DomainError } from '../domain/errors.js';
import { assertCanSeeArea, isCaseWorker } from '../domain/permissions.js';
import { londonDate } from '../domain/time.js';
import { appendAudit } from '../db/repositories/audit.js';
import * as referralsRepo from '../db/repositories/referrals.js';
import type { Referral } from '../db/repositories/referrals.js';

export type OwnReferral = Pick<Referral, 'reference' | 'status' | 'submittedAt'>;

/** `my referrals`: reference, date and status of each; never the assessment or the answers. */
export async function listMyReferrals(deps: AppDeps, actor: Actor): Promise<OwnReferral[]> {
  const rows = await referralsRepo.listReferralsByReferrer(deps.db, actor.aadObjectId);
  if (rows.length > 0) {
    await appendAudit(
      deps.db,
      deps.now(),
      rows.map((r) => ({ actorAadObjectId: actor.aadObjectId, action: 'referral.status_view', entityType: 'referral', entityId: r.id })),
    );
  }
  return rows.map(({ reference, status, submittedAt }) => ({ reference, status, submittedAt }));
}

/**
 * An officer or supervisor of the referral's area, with training in date,
 * opens a referral. The view is audited; so is a refused attempt.
 */
export async function viewReferral(deps: AppDeps, actor: Actor, reference: string): Promise<Referral> {
  const now = deps.now();
  // People with no case role learn nothing, not even whether the reference exists.
  if (!isCaseWorker(actor)) {
    await appendAudit(deps.db, now, [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view_denied', entityType: 'reference', entityId: reference }]);
    throw new DomainError('forbidden');
  }
  const referral = await referralsRepo.findReferralByReference(deps.db, reference);
  if (!referral) throw new DomainError('not_found');
  try {
    assertCanSeeArea(actor, referral.areaId, londonDate(now));
  } catch (e) {
    await appendAudit(deps.db, now, [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view_denied', entityType: 'referral', entityId: referral.id }]);
    throw e;
  }
  await appendAudit(deps.db, now, [{ actorAadObjectId: actor.aadObjectId, action: 'referral.view', entityType: 'referral', entityId: referral.id }]);
  return referral;
}
