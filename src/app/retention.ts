/**
 * Retention reviews and deletion (DESIGN §7). A record's review date comes
 * from its pathway's policy and moves with its activity; when it falls due
 * the owner (or the area's supervisors, when the owner has gone) is
 * reminded. The reviewer keeps the record (with a justification and a next
 * review at most the policy's limit away; a young child's record needs its
 * own justification) or proposes deletion, which a supervisor of the area
 * approves inline. Approval purges the person's data in the same
 * transaction as the decision. Every step is audited (ids only).
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
import { DomainError } from '../domain/errors.js';
import { isCaseWorker, isTrained, trainedCaseWorkers } from '../domain/permissions.js';
import { londonDate } from '../domain/time.js';
import { decisionRefusal } from '../domain/approvals.js';
import { latestNextReview, needsChildJustification, policyReviewDate } from '../domain/retention.js';
import { personAge, validateStep, type FieldError, type PathwayDefinition } from '../domain/forms.js';
import { deletionDecisionForm, proposeDeletionForm, retainForm } from '../forms/retention.js';
import { preventPathway } from '../forms/prevent.js';
import type { Transaction } from '../db/client.js';
import { appendAudit } from '../db/repositories/audit.js';
import * as retentionRepo from '../db/repositories/retention.js';
import type { DeletionRequest, RetentionDecision, ReviewDue } from '../db/repositories/retention.js';
import { enqueueMessages } from '../db/repositories/outbox.js';
import * as referralsRepo from '../db/repositories/referrals.js';
import { loadRecord, type CaseRecord, type Notice } from './cases.js';
import { approvalMessage, queueCardUpdates, rawStrings, refuseDecision, staleNotice, type CardRole } from './approvals.js';

const LIST_LIMIT = 50;

export interface ReviewRecord extends CaseRecord {
  readonly reviewDueOn: string | null;
  readonly lastDecision: RetentionDecision | undefined;
  readonly holdings: Awaited<ReturnType<typeof retentionRepo.holdings>>;
  readonly personAge: number | undefined;
  readonly pendingDeletion: DeletionRequest | undefined;
  /** The latest next-review date a Retain may set today. */
  readonly latestNextReview: string;
  readonly needsChildJustification: boolean;
}

export type RetentionScreen =
  | { readonly kind: 'reviews'; readonly items: readonly ReviewDue[] }
  | {
      readonly kind: 'review';
      readonly record: ReviewRecord;
      /** A form open on the review: keep, or propose deletion. */
      readonly form?: 'retain' | 'proposeDeletion';
      readonly values?: Record<string, string>;
      readonly errors?: Record<string, FieldError>;
      readonly notice?: Notice;
    }
  | { readonly kind: 'exportReady'; readonly reference: string; readonly url: string; readonly expiresAt: Date }
  | {
      readonly kind: 'deletion';
      readonly request: DeletionRequest;
      readonly role: CardRole;
      readonly values?: Record<string, string>;
      readonly errors?: Record<string, FieldError>;
      readonly notice?: Notice;
    };

/** The review date a record's activity sets today (the caller writes it in the same transaction). */
export function reviewDateAfterActivity(pathway: PathwayDefinition, today: string, closedNoFurtherAction = false): string {
  return policyReviewDate(pathway.retention, closedNoFurtherAction ? { closedNoFurtherActionOn: today, lastActivityOn: today } : { lastActivityOn: today });
}

/** `reviews`: records of my areas whose review is due, oldest first. */
export async function listReviews(deps: AppDeps, actor: Actor): Promise<RetentionScreen> {
  const today = londonDate(deps.now());
  if (!isCaseWorker(actor) || !isTrained(actor, today)) {
    await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'retention.list_denied', entityType: 'areas', entityId: actor.areas.join(',') }]);
    throw new DomainError(isCaseWorker(actor) ? 'training_expired' : 'forbidden');
  }
  const items = await retentionRepo.listReviewsDue(deps.db, actor.areas, today, LIST_LIMIT);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'retention.list', entityType: 'areas', entityId: actor.areas.join(',') }]);
  return { kind: 'reviews', items };
}

async function reviewRecord(deps: AppDeps, actor: Actor, reference: string, action: string): Promise<ReviewRecord> {
  const record = await loadRecord(deps, actor, reference, action);
  const today = londonDate(deps.now());
  const [reviewDueOn, lastDecision, holdings, pendingDeletion] = await Promise.all([
    retentionRepo.reviewDueOf(deps.db, record.referral.id),
    retentionRepo.latestRetentionDecision(deps.db, record.referral.id),
    retentionRepo.holdings(deps.db, record.referral.id),
    retentionRepo.findPendingDeletion(deps.db, record.referral.id),
  ]);
  // "About a child": the person's age when they were referred.
  const age = personAge(record.pathway, record.referral.answers, londonDate(record.referral.submittedAt));
  return {
    ...record,
    reviewDueOn,
    lastDecision,
    holdings,
    personAge: age,
    pendingDeletion,
    latestNextReview: latestNextReview(record.pathway.retention, today),
    needsChildJustification: needsChildJustification(record.pathway.retention, age),
  };
}

/** The review card: why the record was kept so far, what it holds, and the two choices. Audited as a view. */
export async function openReview(deps: AppDeps, actor: Actor, reference: string, form?: 'retain' | 'proposeDeletion', notice?: Notice): Promise<RetentionScreen> {
  const record = await reviewRecord(deps, actor, reference, 'retention.view');
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'retention.view', entityType: 'referral', entityId: record.referral.id }]);
  return { kind: 'review', record, ...(form ? { form } : {}), ...(notice ? { notice } : {}) };
}

/** Keep the record until a next review, with the reason (and a young child's reason) on record. */
export async function retain(deps: AppDeps, actor: Actor, reference: string, raw: Record<string, unknown>): Promise<RetentionScreen> {
  const record = await reviewRecord(deps, actor, reference, 'retention.retain');
  const now = deps.now();
  const today = londonDate(now);
  const checked = validateStep(record.pathway, retainForm, raw, { today, answers: record.referral.answers, dynamicChoices: { areas: [] } }, 'complete');
  const errors: Record<string, FieldError> = checked.ok ? {} : { ...checked.errors };
  const v = checked.ok ? checked.values : {};
  if (typeof v.nextReviewOn === 'string' && v.nextReviewOn > record.latestNextReview) {
    errors.nextReviewOn = { key: 'error.retention.tooLate', params: { years: record.pathway.retention.maxRetainYears } };
  }
  if (typeof v.nextReviewOn === 'string' && v.nextReviewOn <= today) errors.nextReviewOn = { key: 'error.retention.notFuture' };
  if (record.needsChildJustification && !(typeof v.childJustification === 'string' && v.childJustification.trim())) {
    errors.childJustification = { key: 'error.retention.childJustification', params: { age: record.pathway.retention.childUnder } };
  }
  if (Object.keys(errors).length > 0) {
    return { kind: 'review', record, form: 'retain', values: rawStrings(raw, ['justification', 'nextReviewOn', 'childJustification']), errors };
  }
  await deps.db.transaction(async (tx) => {
    await retentionRepo.insertRetentionDecision(tx, {
      id: randomUUID(),
      referralId: record.referral.id,
      justification: String(v.justification),
      childJustification: typeof v.childJustification === 'string' && v.childJustification ? v.childJustification : null,
      nextReviewOn: String(v.nextReviewOn),
      decidedByAadObjectId: actor.aadObjectId,
      decidedAt: now,
    });
    await retentionRepo.setReviewDue(tx, record.referral.id, String(v.nextReviewOn));
    await appendAudit(tx, now, [{ actorAadObjectId: actor.aadObjectId, action: 'retention.retain', entityType: 'referral', entityId: record.referral.id }]);
  });
  return openReview(deps, actor, reference, undefined, { key: 'retention.retained', params: { date: String(v.nextReviewOn) }, tone: 'good' });
}

/** Ask the area's supervisors to delete the record. */
export async function proposeDeletion(deps: AppDeps, actor: Actor, reference: string, raw: Record<string, unknown>): Promise<RetentionScreen> {
  const record = await reviewRecord(deps, actor, reference, 'retention.propose');
  const now = deps.now();
  const today = londonDate(now);
  const checked = validateStep(record.pathway, proposeDeletionForm, raw, { today, answers: {}, dynamicChoices: { areas: [] } }, 'complete');
  if (!checked.ok) return { kind: 'review', record, form: 'proposeDeletion', values: rawStrings(raw, ['reason']), errors: checked.errors };
  const areaId = record.case?.areaId ?? record.referral.areaId;
  const approvers = trainedCaseWorkers(deps.directory, areaId, today, { supervisorsOnly: true }).filter((s) => s !== actor.aadObjectId);
  if (approvers.length === 0) return { kind: 'review', record, notice: { key: 'retention.noSupervisor', tone: 'attention' } };
  const created = await deps.db.transaction(async (tx) => {
    const request = await retentionRepo.insertDeletionRequest(tx, {
      id: randomUUID(),
      referralId: record.referral.id,
      reference: record.referral.reference,
      areaId,
      requestedByAadObjectId: actor.aadObjectId,
      reason: String(checked.values.reason),
      requestedAt: now,
    });
    if (!request) return undefined;
    await enqueueMessages(
      tx,
      approvers.map((s) => approvalMessage('deletion.request', request.id, s, { deletionId: request.id })),
      now,
    );
    await appendAudit(tx, now, [{ actorAadObjectId: actor.aadObjectId, action: 'retention.propose_deletion', entityType: 'deletion', entityId: request.id }]);
    return request;
  });
  if (!created) return openReview(deps, actor, reference, undefined, { key: 'retention.alreadyProposed', tone: 'attention' });
  deps.messagesQueued();
  return deletionCard(deps, actor, created.id, { key: 'retention.proposed', tone: 'good' });
}

function deletionRole(actor: Actor, d: DeletionRequest, today: string): CardRole {
  if (actor.aadObjectId === d.requestedByAadObjectId) return 'requester';
  return decisionRefusal(actor, d.areaId, d.requestedByAadObjectId, today) === undefined ? 'decider' : 'other';
}

/** The deletion request's approval card as this actor should see it. */
export async function deletionCard(deps: AppDeps, actor: Actor, id: string, notice?: Notice, o: { wasSentIt?: boolean } = {}): Promise<RetentionScreen> {
  const today = londonDate(deps.now());
  const request = await retentionRepo.findDeletionRequest(deps.db, id);
  if (!request) throw new DomainError('not_found');
  const role = deletionRole(actor, request, today);
  if (role === 'other' && !o.wasSentIt && !(isCaseWorker(actor) && actor.areas.includes(request.areaId))) {
    await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'deletion.view_denied', entityType: 'deletion', entityId: id }]);
    throw new DomainError('forbidden');
  }
  if (role === 'decider') await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'deletion.view', entityType: 'deletion', entityId: id }]);
  return { kind: 'deletion', request, role, ...(notice ? { notice } : {}) };
}

/**
 * The decision's writes, inside the caller's transaction: the conditional
 * update on pending (undefined when someone decided first), the purge on
 * approval, the card updates, the requester's notice and the audit entries.
 * bench:purge times exactly this.
 */
export async function recordDeletionDecision(
  tx: Transaction,
  d: { id: string; decision: 'approve' | 'decline'; by: string; note: string | null; now: Date },
  purge: typeof retentionRepo.purgeReferral = retentionRepo.purgeReferral,
): Promise<{ request: DeletionRequest; purged?: retentionRepo.PurgeCounts } | undefined> {
  const decided = await retentionRepo.decideDeletion(tx, d.id, { status: d.decision === 'approve' ? 'approved' : 'declined', by: d.by, at: d.now, note: d.note });
  if (!decided) return undefined;
  const audit = [{ actorAadObjectId: d.by, action: `deletion.${d.decision}`, entityType: 'deletion', entityId: decided.id }];
  let purged: retentionRepo.PurgeCounts | undefined;
  if (d.decision === 'approve' && decided.referralId) {
    purged = await purge(tx, decided.referralId, decided.id, d.now);
    audit.push({ actorAadObjectId: d.by, action: 'record.purge', entityType: 'referral', entityId: decided.referralId });
  }
  await queueCardUpdates(tx, decided.id, ['deletion.request'], decided.status, d.now);
  await enqueueMessages(
    tx,
    [
      {
        key: `deletion.decided:${decided.id}:${decided.requestedByAadObjectId}`,
        kind: 'deletion.decided',
        recipientAadObjectId: decided.requestedByAadObjectId,
        payload: { deletionId: decided.id },
        subjectId: decided.id,
      },
    ],
    d.now,
  );
  await appendAudit(tx, d.now, audit);
  return { request: decided, ...(purged ? { purged } : {}) };
}

/**
 * Approve (purging the record in the same transaction) or decline (with a
 * note) a deletion. Exactly one decision: a conditional update on pending.
 */
export async function decideDeletion(deps: AppDeps, actor: Actor, id: string, decision: 'approve' | 'decline', raw: Record<string, unknown>): Promise<RetentionScreen> {
  const now = deps.now();
  const today = londonDate(now);
  const request = await retentionRepo.findDeletionRequest(deps.db, id);
  if (!request) throw new DomainError('not_found');
  const why = decisionRefusal(actor, request.areaId, request.requestedByAadObjectId, today);
  if (why) return refuseDecision(deps, actor, 'deletion', request.id, why);
  if (request.status !== 'pending') return deletionCard(deps, actor, id, staleNotice(deps, request));
  const checked = validateStep(
    preventPathway,
    deletionDecisionForm,
    raw,
    { today, answers: {}, dynamicChoices: { areas: [] } },
    'complete',
  );
  const errors: Record<string, FieldError> = checked.ok ? {} : { ...checked.errors };
  const note = checked.ok && typeof checked.values.note === 'string' && checked.values.note ? checked.values.note : null;
  if (decision === 'decline' && !note && !errors.note) errors.note = { key: 'error.retention.declineReason' };
  if (Object.keys(errors).length > 0) {
    const screen = await deletionCard(deps, actor, id);
    return { ...screen, values: rawStrings(raw, ['note']), errors } as RetentionScreen;
  }
  const won = await deps.db.transaction(async (tx) => {
    const done = await recordDeletionDecision(tx, { id, decision, by: actor.aadObjectId, note, now });
    if (done?.purged) deps.log.info({ deletionId: done.request.id, rows: done.purged }, 'record purged');
    return done !== undefined;
  });
  if (won) deps.messagesQueued();
  const after = await retentionRepo.findDeletionRequest(deps.db, id);
  return deletionCard(deps, actor, id, won ? { key: `retention.done.${decision}`, tone: 'good' } : staleNotice(deps, after!));
}

/** The proposer takes back a pending deletion. */
export async function withdrawDeletion(deps: AppDeps, actor: Actor, id: string): Promise<RetentionScreen> {
  const now = deps.now();
  const request = await retentionRepo.findDeletionRequest(deps.db, id);
  if (!request) throw new DomainError('not_found');
  if (request.requestedByAadObjectId !== actor.aadObjectId) {
    await appendAudit(deps.db, now, [{ actorAadObjectId: actor.aadObjectId, action: 'deletion.withdraw_denied', entityType: 'deletion', entityId: id }]);
    throw new DomainError('forbidden');
  }
  const won = await deps.db.transaction(async (tx) => {
    const done = await retentionRepo.decideDeletion(tx, id, { status: 'withdrawn', by: actor.aadObjectId, at: now, note: null });
    if (!done) return false;
    await queueCardUpdates(tx, done.id, ['deletion.request'], 'withdrawn', now);
    await appendAudit(tx, now, [{ actorAadObjectId: actor.aadObjectId, action: 'deletion.withdraw', entityType: 'deletion', entityId: id }]);
    return true;
  });
  if (won) deps.messagesQueued();
  const after = await retentionRepo.findDeletionRequest(deps.db, id);
  return deletionCard(deps, actor, id, won ? { key: 'retention.done.withdraw', tone: 'good' } : staleNotice(deps, after!));
}

/** The deletion card a notification carries, for its recipient, from the state at delivery. */
export async function deletionCardFor(deps: AppDeps, payload: Record<string, unknown>, recipient: string): Promise<RetentionScreen | undefined> {
  const id = typeof payload.deletionId === 'string' ? payload.deletionId : undefined;
  if (!id) return undefined;
  return deletionCard(deps, deps.directory.actor(recipient, ''), id, undefined, { wasSentIt: true });
}

/** Who is reminded of a review: the case owner while they can still act on it, else the area's supervisors. */
export function reviewRecipients(deps: AppDeps, r: ReviewDue, today: string): string[] {
  const workers = trainedCaseWorkers(deps.directory, r.areaId, today);
  if (r.ownerAadObjectId && workers.includes(r.ownerAadObjectId)) return [r.ownerAadObjectId];
  return trainedCaseWorkers(deps.directory, r.areaId, today, { supervisorsOnly: true });
}

// ---------------------------------------------------------------------------
// Subject access

/** Who may export a record: a trained supervisor of its area (checked again when the file is fetched). */
async function assertMayExport(deps: AppDeps, actor: Actor, record: CaseRecord): Promise<void> {
  const areaId = record.case?.areaId ?? record.referral.areaId;
  const today = londonDate(deps.now());
  if (actor.roles.includes('supervisor') && actor.areas.includes(areaId) && isTrained(actor, today)) return;
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'record.export_denied', entityType: 'referral', entityId: record.referral.id }]);
  throw new DomainError('forbidden');
}

/**
 * A supervisor asks for everything held about the person (a subject access
 * request): they get a one-use link, valid for minutes, to a JSON file.
 */
export async function requestExport(
  deps: AppDeps,
  actor: Actor,
  reference: string,
  makeLink: (grant: { referralId: string; actorAadObjectId: string }) => { url: string; expiresAt: Date },
): Promise<RetentionScreen> {
  const record = await loadRecord(deps, actor, reference, 'record.export');
  await assertMayExport(deps, actor, record);
  const link = makeLink({ referralId: record.referral.id, actorAadObjectId: actor.aadObjectId });
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'record.export_link', entityType: 'referral', entityId: record.referral.id }]);
  return { kind: 'exportReady', reference: record.referral.reference, url: link.url, expiresAt: link.expiresAt };
}

/**
 * The export file behind a link: the holder must still be a trained
 * supervisor of the record's area. Audited as `record.export`. Undefined when
 * refused (the refusal is audited too).
 */
export async function exportForLink(deps: AppDeps, grant: { referralId: string; actorAadObjectId: string }): Promise<{ filename: string; body: string } | undefined> {
  const actor = deps.directory.actor(grant.actorAadObjectId, '');
  const referral = await referralsRepo.findReferralById(deps.db, grant.referralId);
  if (!referral) return undefined;
  try {
    const record = await loadRecord(deps, actor, referral.reference, 'record.export');
    await assertMayExport(deps, actor, record);
  } catch (err) {
    if (err instanceof DomainError) return undefined;
    throw err;
  }
  const held = await retentionRepo.everythingHeld(deps.db, referral.id);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'record.export', entityType: 'referral', entityId: referral.id }]);
  const body = JSON.stringify({ exportedAt: deps.now().toISOString(), exportedBy: actor.aadObjectId, reference: referral.reference, ...held }, null, 2);
  return { filename: `${referral.reference}-subject-access.json`, body };
}
