/** A referrer's own referrals: status only, audited. Officers read referrals through app/cases. */
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
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
