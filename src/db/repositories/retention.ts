/**
 * Retention reviews, deletion requests, and the purge (DESIGN §7). The purge
 * removes everything held about the person in one transaction; what stays is
 * the de-identified statistics row (its link is cut by ON DELETE SET NULL),
 * the audit log (ids and event kinds only) and the deletion request (ids,
 * reference and outcome; its free text is cleared).
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { executeRows, type DatabaseOrTransaction } from '../client.js';
import { openStoredRow, sealText } from '../narrative-fields.js';
import {
  accessRequests,
  botState,
  caseActions,
  caseEntries,
  cases,
  deletionRequests,
  drafts,
  outbox,
  referrals,
  retentionDecisions,
  spentDownloadTokens,
  transfers,
  triageAssessments,
} from '../schema.js';

export type RetentionDecision = typeof retentionDecisions.$inferSelect;
export type DeletionRequest = typeof deletionRequests.$inferSelect & { status: 'pending' | 'approved' | 'declined' | 'withdrawn' };

export async function setReviewDue(db: DatabaseOrTransaction, referralId: string, dueOn: string): Promise<void> {
  await db.update(referrals).set({ reviewDueOn: dueOn }).where(eq(referrals.id, referralId));
}

/** The review date of the referral behind a case (case activity moves it). */
export async function setReviewDueByCase(db: DatabaseOrTransaction, caseId: string, dueOn: string): Promise<void> {
  await db
    .update(referrals)
    .set({ reviewDueOn: dueOn })
    .where(eq(referrals.id, sql`(select ${cases.referralId} from ${cases} where ${cases.id} = ${caseId})`));
}

export async function reviewDueOf(db: DatabaseOrTransaction, referralId: string): Promise<string | null> {
  const [row] = await db.select({ d: referrals.reviewDueOn }).from(referrals).where(eq(referrals.id, referralId));
  return row?.d ?? null;
}

export interface ReviewDue {
  readonly referralId: string;
  readonly reference: string;
  readonly areaId: string;
  readonly ownerAadObjectId: string | null;
  readonly reviewDueOn: string;
}

/** The review columns both review queries read: a record, its area and owner (the case's, once there is one). */
type ReviewRow = { id: string; reference: string; area_id: string; owner: string | null; due: string };
const reviewSelect = sql`select r.id, r.reference, coalesce(c.area_id, r.area_id) as area_id, c.owner_aad_object_id as owner, r.review_due_on::text as due
        from ${referrals} r
        left join ${cases} c on c.referral_id = r.id`;
const toReviewDue = (r: ReviewRow): ReviewDue => ({ referralId: r.id, reference: r.reference, areaId: r.area_id, ownerAadObjectId: r.owner, reviewDueOn: r.due });

/**
 * Records whose review is due and not yet reminded for that date, locked for
 * the caller's transaction (SKIP LOCKED, like the other sweeps). A record
 * with a deletion waiting for approval is left alone.
 */
export async function claimReviewsToRemind(db: DatabaseOrTransaction, today: string, limit: number): Promise<ReviewDue[]> {
  const rows = await executeRows<ReviewRow>(
    db,
    sql`${reviewSelect}
        where r.review_due_on <= ${today}::date
          and (r.review_reminded_for is null or r.review_reminded_for <> r.review_due_on)
          and not exists (select 1 from ${deletionRequests} d where d.referral_id = r.id and d.status = 'pending')
        order by r.review_due_on
        limit ${limit}
        for update of r skip locked`,
  );
  return rows.map(toReviewDue);
}

/**
 * Marks the claimed records reminded for their review date, in one statement.
 * Called in the claim's transaction: the rows are locked, so the date is
 * still the one the reminder named.
 */
export async function markReviewsReminded(db: DatabaseOrTransaction, rows: readonly ReviewDue[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .update(referrals)
    .set({ reviewRemindedFor: sql`${referrals.reviewDueOn}` })
    .where(inArray(referrals.id, rows.map((r) => r.referralId)));
}

/** Reviews due by `today` in the given areas, oldest first (the `reviews` command). */
export async function listReviewsDue(db: DatabaseOrTransaction, areaIds: readonly string[], today: string, limit: number): Promise<ReviewDue[]> {
  if (areaIds.length === 0) return [];
  const rows = await executeRows<ReviewRow>(
    db,
    sql`${reviewSelect}
        where r.review_due_on <= ${today}::date
          and coalesce(c.area_id, r.area_id) in (${sql.join(areaIds.map((a) => sql`${a}`), sql`, `)})
        order by r.review_due_on, r.reference
        limit ${limit}`,
  );
  return rows.map(toReviewDue);
}

export async function insertRetentionDecision(db: DatabaseOrTransaction, d: typeof retentionDecisions.$inferInsert): Promise<void> {
  await db.insert(retentionDecisions).values({
    ...d,
    justification: sealText('retention_decisions.justification', d.justification),
    childJustification: sealText('retention_decisions.child_justification', d.childJustification ?? null),
  });
}

export async function latestRetentionDecision(db: DatabaseOrTransaction, referralId: string): Promise<RetentionDecision | undefined> {
  const [row] = await db.select().from(retentionDecisions).where(eq(retentionDecisions.referralId, referralId)).orderBy(desc(retentionDecisions.decidedAt)).limit(1);
  return row ? openStoredRow('retention_decisions', row) : undefined;
}

/** A deletion request as stored, with its free text opened. */
const openDeletion = (row: typeof deletionRequests.$inferSelect | undefined): DeletionRequest | undefined =>
  row ? (openStoredRow('deletion_requests', row) as DeletionRequest) : undefined;

/** What a record holds, counted for the review card (never its contents). */
export async function holdings(db: DatabaseOrTransaction, referralId: string): Promise<Record<'entries' | 'openActions' | 'transfers' | 'grants', number>> {
  const [row] = await executeRows<{ entries: number; open_actions: number; transfers: number; grants: number }>(
    db,
    sql`select
          (select count(*) from ${caseEntries} e join ${cases} c on c.id = e.case_id where c.referral_id = ${referralId}::uuid)::int as entries,
          (select count(*) from ${caseActions} a join ${cases} c on c.id = a.case_id where c.referral_id = ${referralId}::uuid and a.status = 'open')::int as open_actions,
          (select count(*) from ${transfers} t join ${cases} c on c.id = t.case_id where c.referral_id = ${referralId}::uuid)::int as transfers,
          (select count(*) from ${accessRequests} g where g.referral_id = ${referralId}::uuid and g.status = 'granted')::int as grants`,
  );
  return { entries: Number(row?.entries ?? 0), openActions: Number(row?.open_actions ?? 0), transfers: Number(row?.transfers ?? 0), grants: Number(row?.grants ?? 0) };
}

// ---------------------------------------------------------------------------
// Deletion requests

/** A pending deletion request; undefined when one is already pending for the record (unique index). */
export async function insertDeletionRequest(db: DatabaseOrTransaction, d: typeof deletionRequests.$inferInsert): Promise<DeletionRequest | undefined> {
  const [row] = await db
    .insert(deletionRequests)
    .values({ ...d, reason: sealText('deletion_requests.reason', d.reason ?? null) })
    .onConflictDoNothing({ target: deletionRequests.referralId, where: sql`${deletionRequests.status} = 'pending'` })
    .returning();
  return openDeletion(row);
}

export async function findDeletionRequest(db: DatabaseOrTransaction, id: string): Promise<DeletionRequest | undefined> {
  const [row] = await db.select().from(deletionRequests).where(eq(deletionRequests.id, id));
  return openDeletion(row);
}

export async function findPendingDeletion(db: DatabaseOrTransaction, referralId: string): Promise<DeletionRequest | undefined> {
  const [row] = await db
    .select()
    .from(deletionRequests)
    .where(and(eq(deletionRequests.referralId, referralId), eq(deletionRequests.status, 'pending')));
  return openDeletion(row);
}

/** The one decision (or withdrawal) of a pending deletion request; undefined when it was no longer pending. */
export async function decideDeletion(
  db: DatabaseOrTransaction,
  id: string,
  d: { status: 'approved' | 'declined' | 'withdrawn'; by: string; at: Date; note: string | null },
): Promise<DeletionRequest | undefined> {
  const [row] = await db
    .update(deletionRequests)
    .set({ status: d.status, decidedByAadObjectId: d.by, decidedAt: d.at, decisionNote: sealText('deletion_requests.decision_note', d.note) })
    .where(and(eq(deletionRequests.id, id), eq(deletionRequests.status, 'pending')))
    .returning();
  return openDeletion(row);
}

export async function listPendingDeletionsFor(db: DatabaseOrTransaction, areaIds: readonly string[], limit: number): Promise<DeletionRequest[]> {
  if (areaIds.length === 0) return [];
  const rows = await db
    .select()
    .from(deletionRequests)
    .where(and(inArray(deletionRequests.areaId, [...areaIds]), eq(deletionRequests.status, 'pending')))
    .orderBy(asc(deletionRequests.requestedAt))
    .limit(limit);
  return rows.map((r) => openDeletion(r)!);
}

// ---------------------------------------------------------------------------
// The purge

export interface PurgeCounts {
  readonly [table: string]: number;
}

/**
 * Deletes everything held about the person behind a referral, in the
 * caller's transaction: case entries, actions, transfers, access requests and
 * grants, the triage, the case, retention decisions, the draft, proactive
 * messages about any of these (and their payloads), stored turn state that
 * names the draft, and the referral itself with its search key. The deletion
 * request that authorised it keeps only ids, the reference and the outcome.
 * Returns how many rows went from each table (ids only reach the audit).
 */
export async function purgeReferral(db: DatabaseOrTransaction, referralId: string, keepDeletionRequest: string, now: Date): Promise<PurgeCounts> {
  const [referral] = await db.select({ id: referrals.id, reference: referrals.reference, draftId: referrals.draftId }).from(referrals).where(eq(referrals.id, referralId)).for('update');
  if (!referral) return {};
  const caseRows = await db.select({ id: cases.id }).from(cases).where(eq(cases.referralId, referralId));
  const caseIds = caseRows.map((c) => c.id);
  const actionIds = caseIds.length ? (await db.select({ id: caseActions.id }).from(caseActions).where(inArray(caseActions.caseId, caseIds))).map((a) => a.id) : [];
  const transferIds = caseIds.length ? (await db.select({ id: transfers.id }).from(transfers).where(inArray(transfers.caseId, caseIds))).map((t) => t.id) : [];
  const accessIds = (await db.select({ id: accessRequests.id }).from(accessRequests).where(eq(accessRequests.referralId, referralId))).map((a) => a.id);

  const counts: Record<string, number> = {};
  const count = async (table: string, q: Promise<unknown[]>) => {
    counts[table] = (counts[table] ?? 0) + (await q).length;
  };

  // Proactive messages that name the person's record anywhere in their payload (digests
  // carry several items), found through the GIN index on the payload's string values
  // (payloads hold ids and references only, so whole-string equality is the match).
  const needles = [referral.reference, referralId, referral.draftId, ...caseIds, ...actionIds, ...transferIds, ...accessIds];
  const subjects = [...transferIds, ...accessIds];
  const doomed = await executeRows<{ id: string }>(
    db,
    sql`select id from ${outbox}
        where ${subjects.length ? sql`${outbox.subjectId} in (${sql.join(subjects.map((i) => sql`${i}::uuid`), sql`, `)}) or ` : sql``}outbox_payload_strings(${outbox.payload}) && array[${sql.join(needles.map((n) => sql`${n}`), sql`, `)}]::text[]`,
  );
  const doomedIds = doomed.map((d) => d.id);
  if (doomedIds.length > 0) {
    await count('outbox', db.delete(outbox).where(sql`${outbox.kind} = 'approval.update' and ${outbox.payload}->>'originalId' in (${textList(doomedIds)})`).returning({ id: outbox.id }));
    await count('outbox', db.delete(outbox).where(inArray(outbox.id, doomedIds)).returning({ id: outbox.id }));
  }
  if (caseIds.length > 0) {
    await count('case_entries', db.delete(caseEntries).where(inArray(caseEntries.caseId, caseIds)).returning({ id: caseEntries.id }));
    await count('case_actions', db.delete(caseActions).where(inArray(caseActions.caseId, caseIds)).returning({ id: caseActions.id }));
    await count('transfers', db.delete(transfers).where(inArray(transfers.caseId, caseIds)).returning({ id: transfers.id }));
  }
  await count('access_requests', db.delete(accessRequests).where(eq(accessRequests.referralId, referralId)).returning({ id: accessRequests.id }));
  await count('triage_assessments', db.delete(triageAssessments).where(eq(triageAssessments.referralId, referralId)).returning({ id: triageAssessments.id }));
  await count('cases', db.delete(cases).where(eq(cases.referralId, referralId)).returning({ id: cases.id }));
  await count('retention_decisions', db.delete(retentionDecisions).where(eq(retentionDecisions.referralId, referralId)).returning({ id: retentionDecisions.id }));
  // Other deletion requests about the record (declined, withdrawn) go; the approving one is cleared and kept.
  await count(
    'deletion_requests',
    db
      .delete(deletionRequests)
      .where(and(eq(deletionRequests.referralId, referralId), sql`${deletionRequests.id} <> ${keepDeletionRequest}`))
      .returning({ id: deletionRequests.id }),
  );
  await db.update(deletionRequests).set({ reason: null, decisionNote: null, purgedAt: now }).where(eq(deletionRequests.id, keepDeletionRequest));
  await count('drafts', db.delete(drafts).where(eq(drafts.id, referral.draftId)).returning({ id: drafts.id }));
  await count('bot_state', db.delete(botState).where(sql`${botState.data}::text like ${'%' + referral.draftId + '%'}`).returning({ key: botState.key }));
  await count('referrals', db.delete(referrals).where(eq(referrals.id, referralId)).returning({ id: referrals.id }));
  return counts;
}

/** A parenthesised list of text parameters (never empty: `in (null)` matches nothing). */
function textList(ids: readonly string[]) {
  return ids.length === 0 ? sql`null` : sql.join(ids.map((i) => sql`${i}`), sql`, `);
}

/** Marks a download link's nonce used; false when it already was. Forgets nonces whose links have expired. */
export async function spendDownloadNonce(db: DatabaseOrTransaction, nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
  await db.delete(spentDownloadTokens).where(sql`${spentDownloadTokens.expiresAt} < ${now.toISOString()}::timestamptz`);
  const rows = await db.insert(spentDownloadTokens).values({ nonce, expiresAt }).onConflictDoNothing().returning({ nonce: spentDownloadTokens.nonce });
  return rows.length > 0;
}

/** Everything held about the person behind a referral, for a subject-access export (before any purge). */
export async function everythingHeld(db: DatabaseOrTransaction, referralId: string): Promise<Record<string, unknown[]>> {
  const [referral] = await db.select().from(referrals).where(eq(referrals.id, referralId));
  if (!referral) return {};
  const caseRows = await db.select().from(cases).where(eq(cases.referralId, referralId));
  const caseIds = caseRows.map((c) => c.id);
  const [draft, triage, entries, actions, moves, access, decisions, deletions] = await Promise.all([
    db.select().from(drafts).where(eq(drafts.id, referral.draftId)),
    db.select().from(triageAssessments).where(eq(triageAssessments.referralId, referralId)),
    caseIds.length ? db.select().from(caseEntries).where(inArray(caseEntries.caseId, caseIds)).orderBy(asc(caseEntries.seq)) : Promise.resolve([]),
    caseIds.length ? db.select().from(caseActions).where(inArray(caseActions.caseId, caseIds)) : Promise.resolve([]),
    caseIds.length ? db.select().from(transfers).where(inArray(transfers.caseId, caseIds)) : Promise.resolve([]),
    db.select().from(accessRequests).where(eq(accessRequests.referralId, referralId)),
    db.select().from(retentionDecisions).where(eq(retentionDecisions.referralId, referralId)),
    db.select().from(deletionRequests).where(eq(deletionRequests.referralId, referralId)),
  ]);
  // Sealed narrative opened: the person is entitled to what is held, not its ciphertext.
  const open = <T extends Record<string, unknown>>(table: string, rows: readonly T[]) => rows.map((r) => openStoredRow(table, r));
  return {
    referral: open('referrals', [referral]),
    draft: open('drafts', draft),
    triageAssessment: open('triage_assessments', triage),
    case: caseRows,
    chronology: open('case_entries', entries),
    actions,
    transfers: open('transfers', moves),
    accessRequests: open('access_requests', access),
    retentionDecisions: open('retention_decisions', decisions),
    deletionRequests: open('deletion_requests', deletions),
  };
}
