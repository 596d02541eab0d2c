/**
 * Transfers and access requests. A decision is one conditional UPDATE
 * (`where status = 'pending'`): of two approvers pressing at once, or one
 * pressing twice, exactly one gets a row back and acts on it.
 */
import { and, asc, desc, eq, gt, inArray, isNull, ne, sql, type SQL } from 'drizzle-orm';
import { executeRows, type DatabaseOrTransaction } from '../client.js';
import { accessRequests, caseActions, cases, outbox, referrals, transfers } from '../schema.js';
import type { AccessStatus, TransferStatus } from '../../domain/approvals.js';
import { openText, sealText } from '../narrative-fields.js';

export type Transfer = typeof transfers.$inferSelect & { status: TransferStatus };
export type AccessRequest = typeof accessRequests.$inferSelect & { status: AccessStatus };

// Reasons, addresses, justifications and notes are sealed in the database (src/db/narrative-fields.ts):
// opened by these, sealed on every write below.
function toTransfer(row: typeof transfers.$inferSelect): Transfer {
  return {
    ...row,
    reason: openText('transfers.reason', row.reason),
    newAddress: openText('transfers.new_address', row.newAddress),
    decisionNote: openText('transfers.decision_note', row.decisionNote),
  } as Transfer;
}

function toAccessRequest(row: typeof accessRequests.$inferSelect): AccessRequest {
  return {
    ...row,
    purposeDetail: openText('access_requests.purpose_detail', row.purposeDetail),
    justification: openText('access_requests.justification', row.justification),
    decisionNote: openText('access_requests.decision_note', row.decisionNote),
  } as AccessRequest;
}

// ---------------------------------------------------------------------------
// Transfers

/** Inserts a pending transfer; undefined when the case already has one pending (unique index). */
export async function insertTransfer(db: DatabaseOrTransaction, t: typeof transfers.$inferInsert): Promise<Transfer | undefined> {
  const [row] = await db
    .insert(transfers)
    .values({
      ...t,
      reason: sealText('transfers.reason', t.reason),
      newAddress: sealText('transfers.new_address', t.newAddress),
      decisionNote: sealText('transfers.decision_note', t.decisionNote),
    })
    .onConflictDoNothing({ target: transfers.caseId, where: sql`${transfers.status} = 'pending'` })
    .returning();
  return row ? toTransfer(row) : undefined;
}

export async function findTransfer(db: DatabaseOrTransaction, id: string): Promise<Transfer | undefined> {
  const [row] = await db.select().from(transfers).where(eq(transfers.id, id));
  return row ? toTransfer(row) : undefined;
}

export async function findPendingTransfer(db: DatabaseOrTransaction, caseId: string): Promise<Transfer | undefined> {
  const [row] = await db
    .select()
    .from(transfers)
    .where(and(eq(transfers.caseId, caseId), eq(transfers.status, 'pending')));
  return row ? toTransfer(row) : undefined;
}

/** Records the one decision (or withdrawal) of a pending transfer; undefined when it was no longer pending. */
export async function decideTransfer(
  db: DatabaseOrTransaction,
  id: string,
  d: { status: Exclude<TransferStatus, 'pending'>; by: string; at: Date; note: string | null; newOwner: string | null },
): Promise<Transfer | undefined> {
  const [row] = await db
    .update(transfers)
    .set({ status: d.status, decidedByAadObjectId: d.by, decidedAt: d.at, decisionNote: sealText('transfers.decision_note', d.note), newOwnerAadObjectId: d.newOwner })
    .where(and(eq(transfers.id, id), eq(transfers.status, 'pending')))
    .returning();
  return row ? toTransfer(row) : undefined;
}

/**
 * Moves a case to its new area and owner (null: the area's queue). Open
 * actions go to `actionsTo`, so nobody in the old area keeps being reminded
 * of work on a case they can no longer see; pending access requests for the
 * record move to the new area's supervisors.
 */
export async function moveCase(
  db: DatabaseOrTransaction,
  c: { caseId: string; referralId: string; toAreaId: string; owner: string | null; actionsTo: string; now: Date },
): Promise<void> {
  await db.update(cases).set({ areaId: c.toAreaId, ownerAadObjectId: c.owner, lastActivityAt: c.now }).where(eq(cases.id, c.caseId));
  await db
    .update(caseActions)
    .set({ ownerAadObjectId: c.actionsTo })
    .where(and(eq(caseActions.caseId, c.caseId), eq(caseActions.status, 'open')));
  await db
    .update(accessRequests)
    .set({ areaId: c.toAreaId })
    .where(and(eq(accessRequests.referralId, c.referralId), eq(accessRequests.status, 'pending')));
}

/** Pending access requests for a record (they move with its case). */
export async function pendingAccessFor(db: DatabaseOrTransaction, referralId: string): Promise<AccessRequest[]> {
  const rows = await db
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.referralId, referralId), eq(accessRequests.status, 'pending')));
  return rows.map(toAccessRequest);
}

/** Takes an unowned case from the area queue; undefined when someone else took it first. */
export async function takeCase(db: DatabaseOrTransaction, caseId: string, owner: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(cases)
    .set({ ownerAadObjectId: owner, lastActivityAt: now })
    .where(and(eq(cases.id, caseId), isNull(cases.ownerAadObjectId), eq(cases.status, 'open')))
    .returning({ id: cases.id });
  return rows.length > 0;
}

export interface PendingTransferItem {
  readonly id: string;
  readonly reference: string;
  readonly fromAreaId: string;
  readonly toAreaId: string;
  readonly requestedByAadObjectId: string;
  readonly requestedAt: Date;
}

/** Pending transfers matching `where`, with their record's reference, oldest first. */
function pendingTransfers(db: DatabaseOrTransaction, where: SQL | undefined, limit: number): Promise<PendingTransferItem[]> {
  return db
    .select({
      id: transfers.id,
      reference: referrals.reference,
      fromAreaId: transfers.fromAreaId,
      toAreaId: transfers.toAreaId,
      requestedByAadObjectId: transfers.requestedByAadObjectId,
      requestedAt: transfers.requestedAt,
    })
    .from(transfers)
    .innerJoin(cases, eq(cases.id, transfers.caseId))
    .innerJoin(referrals, eq(referrals.id, cases.referralId))
    .where(and(where, eq(transfers.status, 'pending')))
    .orderBy(asc(transfers.requestedAt))
    .limit(limit);
}

/** Pending transfers into the given areas (what a supervisor may decide), oldest first. */
export async function listPendingTransfersInto(db: DatabaseOrTransaction, areaIds: readonly string[], limit: number): Promise<PendingTransferItem[]> {
  if (areaIds.length === 0) return [];
  return pendingTransfers(db, inArray(transfers.toAreaId, [...areaIds]), limit);
}

/** Transfers the actor asked for that still wait. */
export async function listPendingTransfersBy(db: DatabaseOrTransaction, requester: string, limit: number): Promise<PendingTransferItem[]> {
  return pendingTransfers(db, eq(transfers.requestedByAadObjectId, requester), limit);
}

export interface TransferToEscalate {
  readonly id: string;
  readonly reference: string;
  readonly fromAreaId: string;
  readonly toAreaId: string;
  readonly escalateAfter: string;
}

/** Pending transfers past their escalation date and not yet escalated, locked for the caller's transaction. */
export async function claimTransfersToEscalate(db: DatabaseOrTransaction, today: string, limit: number): Promise<TransferToEscalate[]> {
  const rows = await executeRows<{ id: string; reference: string; from_area_id: string; to_area_id: string; escalate_after: string }>(
    db,
    sql`select t.id, r.reference, t.from_area_id, t.to_area_id, t.escalate_after::text as escalate_after
        from ${transfers} t
        join ${cases} c on c.id = t.case_id
        join ${referrals} r on r.id = c.referral_id
        where t.status = 'pending' and t.escalated_at is null and t.escalate_after < ${today}::date
        order by t.escalate_after
        limit ${limit}
        for update of t skip locked`,
  );
  return rows.map((r) => ({ id: r.id, reference: r.reference, fromAreaId: r.from_area_id, toAreaId: r.to_area_id, escalateAfter: r.escalate_after }));
}

export async function markTransfersEscalated(db: DatabaseOrTransaction, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.update(transfers).set({ escalatedAt: now }).where(inArray(transfers.id, [...ids]));
}

// ---------------------------------------------------------------------------
// Access requests

export async function insertAccessRequest(db: DatabaseOrTransaction, a: typeof accessRequests.$inferInsert): Promise<AccessRequest> {
  const [row] = await db
    .insert(accessRequests)
    .values({
      ...a,
      purposeDetail: sealText('access_requests.purpose_detail', a.purposeDetail),
      justification: sealText('access_requests.justification', a.justification),
      decisionNote: sealText('access_requests.decision_note', a.decisionNote),
    })
    .returning();
  return toAccessRequest(row!);
}

export async function findAccessRequest(db: DatabaseOrTransaction, id: string): Promise<AccessRequest | undefined> {
  const [row] = await db.select().from(accessRequests).where(eq(accessRequests.id, id));
  return row ? toAccessRequest(row) : undefined;
}

/** The one decision (or withdrawal) of a pending request; undefined when it was no longer pending. */
export async function decideAccessRequest(
  db: DatabaseOrTransaction,
  id: string,
  d: { status: 'granted' | 'declined' | 'withdrawn'; by: string; at: Date; note: string | null; expiresAt: Date | null },
): Promise<AccessRequest | undefined> {
  const [row] = await db
    .update(accessRequests)
    .set({ status: d.status, decidedByAadObjectId: d.by, decidedAt: d.at, decisionNote: sealText('access_requests.decision_note', d.note), expiresAt: d.expiresAt })
    .where(and(eq(accessRequests.id, id), eq(accessRequests.status, 'pending')))
    .returning();
  return row ? toAccessRequest(row) : undefined;
}

/** The requester's request for this record that waits, if any (one at a time). */
export async function findPendingAccess(db: DatabaseOrTransaction, requester: string, referralId: string): Promise<AccessRequest | undefined> {
  const [row] = await db
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.requesterAadObjectId, requester), eq(accessRequests.referralId, referralId), eq(accessRequests.status, 'pending')));
  return row ? toAccessRequest(row) : undefined;
}

/** The requester's grant for this record still in force at `now`, the latest first. */
export async function findActiveGrant(db: DatabaseOrTransaction, requester: string, referralId: string, now: Date): Promise<AccessRequest | undefined> {
  const [row] = await db
    .select()
    .from(accessRequests)
    .where(
      and(
        eq(accessRequests.requesterAadObjectId, requester),
        eq(accessRequests.referralId, referralId),
        eq(accessRequests.status, 'granted'),
        gt(accessRequests.expiresAt, now),
      ),
    )
    .orderBy(desc(accessRequests.expiresAt))
    .limit(1);
  return row ? toAccessRequest(row) : undefined;
}

export interface PendingAccessItem {
  readonly id: string;
  readonly reference: string;
  readonly areaId: string;
  readonly requesterAadObjectId: string;
  readonly requestedAt: Date;
}

/** Pending requests for records of the given areas, oldest first. */
export async function listPendingAccessFor(db: DatabaseOrTransaction, areaIds: readonly string[], limit: number): Promise<PendingAccessItem[]> {
  if (areaIds.length === 0) return [];
  return db
    .select({
      id: accessRequests.id,
      reference: referrals.reference,
      areaId: accessRequests.areaId,
      requesterAadObjectId: accessRequests.requesterAadObjectId,
      requestedAt: accessRequests.requestedAt,
    })
    .from(accessRequests)
    .innerJoin(referrals, eq(referrals.id, accessRequests.referralId))
    .where(and(inArray(accessRequests.areaId, [...areaIds]), eq(accessRequests.status, 'pending')))
    .orderBy(asc(accessRequests.requestedAt))
    .limit(limit);
}

/** The actor's own requests that wait or are granted and in force. */
export async function listAccessBy(db: DatabaseOrTransaction, requester: string, now: Date, limit: number): Promise<Array<PendingAccessItem & { status: AccessStatus; expiresAt: Date | null }>> {
  const rows = await db
    .select({
      id: accessRequests.id,
      reference: referrals.reference,
      areaId: accessRequests.areaId,
      requesterAadObjectId: accessRequests.requesterAadObjectId,
      requestedAt: accessRequests.requestedAt,
      status: accessRequests.status,
      expiresAt: accessRequests.expiresAt,
    })
    .from(accessRequests)
    .innerJoin(referrals, eq(referrals.id, accessRequests.referralId))
    .where(
      and(
        eq(accessRequests.requesterAadObjectId, requester),
        sql`(${accessRequests.status} = 'pending' or (${accessRequests.status} = 'granted' and ${accessRequests.expiresAt} > ${now.toISOString()}::timestamptz))`,
      ),
    )
    .orderBy(asc(accessRequests.requestedAt))
    .limit(limit);
  return rows as Array<PendingAccessItem & { status: AccessStatus; expiresAt: Date | null }>;
}

export interface GrantToWarn {
  readonly id: string;
  readonly reference: string;
  readonly requesterAadObjectId: string;
  readonly expiresAt: Date;
}

/** Grants ending within the warning window and not yet warned about, locked for the caller's transaction. */
export async function claimGrantsToWarn(db: DatabaseOrTransaction, now: Date, warnBefore: Date, limit: number): Promise<GrantToWarn[]> {
  const rows = await executeRows<{ id: string; reference: string; requester: string; expires_at: string | Date }>(
    db,
    sql`select a.id, r.reference, a.requester_aad_object_id as requester, a.expires_at
        from ${accessRequests} a
        join ${referrals} r on r.id = a.referral_id
        where a.status = 'granted' and a.expiry_warned_at is null
          and a.expires_at <= ${warnBefore.toISOString()}::timestamptz and a.expires_at > ${now.toISOString()}::timestamptz
        order by a.expires_at
        limit ${limit}
        for update of a skip locked`,
  );
  return rows.map((r) => ({ id: r.id, reference: r.reference, requesterAadObjectId: r.requester, expiresAt: new Date(r.expires_at) }));
}

export async function markGrantsWarned(db: DatabaseOrTransaction, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.update(accessRequests).set({ expiryWarnedAt: now }).where(inArray(accessRequests.id, [...ids]));
}

/** Referrals whose person matches the search key (lower-cased last name and date of birth). */
export async function findReferralsByPersonKey(db: DatabaseOrTransaction, key: string, limit: number): Promise<Array<{ id: string; reference: string; areaId: string }>> {
  return db
    .select({ id: referrals.id, reference: referrals.reference, areaId: referrals.areaId })
    .from(referrals)
    .where(eq(referrals.personKey, key))
    .orderBy(desc(referrals.submittedAt))
    .limit(limit);
}

// ---------------------------------------------------------------------------
// Approval cards already delivered

/** Delivered (or still queued) approval cards about a subject, so they can be brought up to date. */
export async function approvalCardsAbout(db: DatabaseOrTransaction, subjectId: string, kinds: readonly string[]): Promise<Array<{ id: string; recipientAadObjectId: string }>> {
  return db
    .select({ id: outbox.id, recipientAadObjectId: outbox.recipientAadObjectId })
    .from(outbox)
    .where(and(eq(outbox.subjectId, subjectId), inArray(outbox.kind, [...kinds]), ne(outbox.status, 'unreachable'), ne(outbox.status, 'failed')));
}

/** An earlier outbox message: its delivery state and the activity id Teams gave it. */
export async function deliveredMessage(db: DatabaseOrTransaction, id: string): Promise<{ status: string; sentActivityId: string | null; kind: string; payload: Record<string, unknown> } | undefined> {
  const [row] = await db
    .select({ status: outbox.status, sentActivityId: outbox.sentActivityId, kind: outbox.kind, payload: outbox.payload })
    .from(outbox)
    .where(eq(outbox.id, id));
  return row as { status: string; sentActivityId: string | null; kind: string; payload: Record<string, unknown> } | undefined;
}


