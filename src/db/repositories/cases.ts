/**
 * Triage, cases, the chronology and actions. Every change that must happen
 * once is a conditional statement (unique index, `where status = 'open'`),
 * never a read followed by a write.
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { executeRows, preparedPer, type DatabaseOrTransaction } from '../client.js';
import { caseActions, caseEntries, cases, referrals, triageAssessments } from '../schema.js';
import type { CaseEntry, CaseKind, EntryKind, TriageOutcome } from '../../domain/case.js';
import type { StepAnswers } from '../../domain/forms.js';
import type { ReferralStatus } from '../../domain/referral.js';
import { openEntryData, openText, sealEntryData, sealText } from '../narrative-fields.js';

export interface QueueItem {
  readonly id: string;
  readonly reference: string;
  readonly areaId: string;
  readonly submittedAt: Date;
  readonly triageDueOn: string;
}

/** Untriaged referrals of the given areas, oldest first. */
export async function listQueue(db: DatabaseOrTransaction, areaIds: readonly string[], limit: number): Promise<QueueItem[]> {
  if (areaIds.length === 0) return [];
  return db
    .select({ id: referrals.id, reference: referrals.reference, areaId: referrals.areaId, submittedAt: referrals.submittedAt, triageDueOn: referrals.triageDueOn })
    .from(referrals)
    .where(and(inArray(referrals.areaId, [...areaIds]), eq(referrals.status, 'received')))
    .orderBy(asc(referrals.submittedAt), asc(referrals.id))
    .limit(limit);
}

/**
 * How many untriaged referrals the areas have (the queue card says "25 of
 * 40"), counting no further than `cap`: a backlog of thousands reads the
 * same as "more than 500" and costs far less to count.
 */
export async function countQueue(db: DatabaseOrTransaction, areaIds: readonly string[], cap: number): Promise<number> {
  if (areaIds.length === 0) return 0;
  const rows = await executeRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from (
          select 1 from ${referrals}
          where ${inArray(referrals.areaId, [...areaIds])} and ${referrals.status} = 'received'
          limit ${cap + 1}) q`,
  );
  return Number(rows[0]?.n ?? 0);
}

export interface Triage {
  readonly id: string;
  readonly referralId: string;
  readonly outcome: TriageOutcome;
  readonly signpostedTo: string | null;
  readonly rationale: string;
  readonly contactMade: boolean;
  readonly assessedByAadObjectId: string;
  readonly assessedAt: Date;
}

// The rationale and who the person was signposted to are sealed in the database (src/db/narrative-fields.ts).
const toTriage = (row: typeof triageAssessments.$inferSelect): Triage => ({
  ...row,
  rationale: openText('triage_assessments.rationale', row.rationale),
  signpostedTo: openText('triage_assessments.signposted_to', row.signpostedTo),
});

/** Inserts the triage unless the referral already has one; undefined means another officer got there first. */
export async function insertTriage(db: DatabaseOrTransaction, t: Triage): Promise<Triage | undefined> {
  const [row] = await db
    .insert(triageAssessments)
    .values({ ...t, rationale: sealText('triage_assessments.rationale', t.rationale), signpostedTo: sealText('triage_assessments.signposted_to', t.signpostedTo) })
    .onConflictDoNothing({ target: triageAssessments.referralId })
    .returning();
  return row ? toTriage(row) : undefined;
}

// The reads behind `case <REF>` are prepared: each is one round trip, and drizzle builds its SQL once.
const triageByReferral = preparedPer((db) =>
  db.select().from(triageAssessments).where(eq(triageAssessments.referralId, sql.placeholder('referralId'))).prepare('triage_by_referral'),
);
const caseByReferral = preparedPer((db) => db.select().from(cases).where(eq(cases.referralId, sql.placeholder('referralId'))).prepare('case_by_referral'));
const entriesOfCase = preparedPer((db) =>
  db.select().from(caseEntries).where(eq(caseEntries.caseId, sql.placeholder('caseId'))).orderBy(asc(caseEntries.seq)).prepare('entries_of_case'),
);
const openActionsOfCase = preparedPer((db) =>
  db
    .select()
    .from(caseActions)
    .where(and(eq(caseActions.caseId, sql.placeholder('caseId')), eq(caseActions.status, 'open')))
    .orderBy(asc(caseActions.dueOn), asc(caseActions.createdAt))
    .prepare('open_actions_of_case'),
);

export async function findTriage(db: DatabaseOrTransaction, referralId: string): Promise<Triage | undefined> {
  const [row] = await triageByReferral(db).execute({ referralId });
  return row ? toTriage(row) : undefined;
}

export async function setReferralStatus(db: DatabaseOrTransaction, referralId: string, status: ReferralStatus): Promise<void> {
  await db.update(referrals).set({ status }).where(eq(referrals.id, referralId));
}

export interface Case {
  readonly id: string;
  readonly referralId: string;
  readonly areaId: string;
  readonly ownerAadObjectId: string | null;
  readonly kind: CaseKind;
  readonly status: 'open' | 'closed';
  readonly openedAt: Date;
  readonly closedAt: Date | null;
  readonly lastActivityAt: Date;
  readonly panelDecision: 'adopted' | 'notAdopted' | null;
}

export async function insertCase(db: DatabaseOrTransaction, c: Omit<Case, 'status' | 'closedAt' | 'panelDecision'>): Promise<Case> {
  const [row] = await db.insert(cases).values(c).returning();
  return row!;
}

export async function findCaseById(db: DatabaseOrTransaction, id: string): Promise<Case | undefined> {
  const [row] = await db.select().from(cases).where(eq(cases.id, id));
  return row;
}

export async function findCaseByReferral(db: DatabaseOrTransaction, referralId: string): Promise<Case | undefined> {
  const [row] = await caseByReferral(db).execute({ referralId });
  return row;
}

/** Closes an open case; undefined when it was already closed (someone else closed it first). */
export async function closeCase(db: DatabaseOrTransaction, id: string, now: Date): Promise<Case | undefined> {
  const [row] = await db
    .update(cases)
    .set({ status: 'closed', closedAt: now, lastActivityAt: now })
    .where(and(eq(cases.id, id), eq(cases.status, 'open')))
    .returning();
  return row;
}

export async function setPanelDecision(db: DatabaseOrTransaction, id: string, decision: 'adopted' | 'notAdopted'): Promise<void> {
  await db.update(cases).set({ panelDecision: decision }).where(eq(cases.id, id));
}

export async function touchCase(db: DatabaseOrTransaction, id: string, now: Date): Promise<void> {
  await db.update(cases).set({ lastActivityAt: now }).where(eq(cases.id, id));
}

export interface CaseListItem {
  readonly reference: string;
  readonly kind: CaseKind;
  readonly openedAt: Date;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly nextDueOn: string | null;
}

/** An officer's open cases, oldest first, with the person's name fields and the next open action's due date. */
export async function listOpenCasesOwnedBy(
  db: DatabaseOrTransaction,
  owner: string,
  name: { readonly step: string; readonly first: string; readonly last: string },
  limit: number,
): Promise<CaseListItem[]> {
  return db
    .select({
      reference: referrals.reference,
      kind: cases.kind,
      openedAt: cases.openedAt,
      firstName: sql<string | null>`${referrals.answers} -> ${name.step} ->> ${name.first}`,
      lastName: sql<string | null>`${referrals.answers} -> ${name.step} ->> ${name.last}`,
      nextDueOn: sql<string | null>`(select min(${caseActions.dueOn})::text from ${caseActions} where ${caseActions.caseId} = ${cases.id} and ${caseActions.status} = 'open')`,
    })
    .from(cases)
    .innerJoin(referrals, eq(referrals.id, cases.referralId))
    .where(and(eq(cases.ownerAadObjectId, owner), eq(cases.status, 'open')))
    .orderBy(asc(cases.openedAt))
    .limit(limit);
}

export interface NewEntry {
  readonly id: string;
  readonly caseId: string;
  readonly kind: EntryKind;
  readonly subjectId: string | null;
  readonly correctsEntryId: string | null;
  readonly data: StepAnswers;
  readonly authorAadObjectId: string;
  readonly at: Date;
}

/**
 * Appends entries. A correction of an entry that is already corrected breaks
 * the unique index: the caller turns that into "someone corrected it first".
 */
export async function insertEntries(db: DatabaseOrTransaction, entries: readonly NewEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insert(caseEntries).values(entries.map((e) => ({ ...e, data: sealEntryData(e.kind, e.data) })));
}

// An entry's narrative fields (notes, reasons) are sealed in the database: opened here, sealed on insert.
const toEntry = ({ seq: _seq, ...row }: typeof caseEntries.$inferSelect): CaseEntry => ({ ...row, kind: row.kind as EntryKind, data: openEntryData(row.data) });

export async function listEntries(db: DatabaseOrTransaction, caseId: string): Promise<CaseEntry[]> {
  const rows = await entriesOfCase(db).execute({ caseId });
  return rows.map(toEntry);
}

export async function findEntry(db: DatabaseOrTransaction, caseId: string, id: string): Promise<CaseEntry | undefined> {
  const [row] = await db.select().from(caseEntries).where(and(eq(caseEntries.caseId, caseId), eq(caseEntries.id, id)));
  return row ? toEntry(row) : undefined;
}

/** Is this entry already corrected? */
export async function isCorrected(db: DatabaseOrTransaction, id: string): Promise<boolean> {
  const [row] = await db.select({ id: caseEntries.id }).from(caseEntries).where(eq(caseEntries.correctsEntryId, id)).limit(1);
  return row !== undefined;
}

/** Which of these entries a later entry corrects. */
export async function correctedAmong(db: DatabaseOrTransaction, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: caseEntries.correctsEntryId })
    .from(caseEntries)
    .where(inArray(caseEntries.correctsEntryId, [...ids]));
  return new Set(rows.map((r) => r.id).filter((id): id is string => id !== null));
}

/** When each of these entries of a case was made. */
export async function entryTimes(db: DatabaseOrTransaction, caseId: string, ids: readonly string[]): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: caseEntries.id, at: caseEntries.at })
    .from(caseEntries)
    .where(and(eq(caseEntries.caseId, caseId), inArray(caseEntries.id, [...ids])));
  return new Map(rows.map((r) => [r.id, r.at]));
}

/** One page of the chronology, newest first. */
export async function listEntriesPage(db: DatabaseOrTransaction, caseId: string, offset: number, limit: number): Promise<{ entries: CaseEntry[]; total: number }> {
  const rows = await db
    .select({ entry: caseEntries, total: sql<number>`count(*) over ()::int` })
    .from(caseEntries)
    .where(eq(caseEntries.caseId, caseId))
    .orderBy(desc(caseEntries.seq))
    .limit(limit)
    .offset(offset);
  if (rows.length === 0 && offset > 0) {
    const [c] = await db.select({ n: sql<number>`count(*)::int` }).from(caseEntries).where(eq(caseEntries.caseId, caseId));
    return { entries: [], total: c?.n ?? 0 };
  }
  return { entries: rows.map((r) => toEntry(r.entry)), total: rows[0]?.total ?? 0 };
}

export interface CaseAction {
  readonly id: string;
  readonly caseId: string;
  /** `system`: `title` is a message-catalogue key (scheduled reviews). */
  readonly kind: 'officer' | 'system';
  readonly title: string;
  readonly ownerAadObjectId: string;
  readonly dueOn: string;
  readonly status: 'open' | 'done';
  readonly createdAt: Date;
  readonly completedAt: Date | null;
}

export async function insertActions(db: DatabaseOrTransaction, actions: ReadonlyArray<Omit<CaseAction, 'status' | 'completedAt'>>): Promise<void> {
  if (actions.length === 0) return;
  await db.insert(caseActions).values([...actions]);
}

export async function listOpenActions(db: DatabaseOrTransaction, caseId: string): Promise<CaseAction[]> {
  return openActionsOfCase(db).execute({ caseId });
}

export async function findAction(db: DatabaseOrTransaction, caseId: string, id: string): Promise<CaseAction | undefined> {
  const [row] = await db.select().from(caseActions).where(and(eq(caseActions.caseId, caseId), eq(caseActions.id, id)));
  return row;
}

/** Completes an open action; undefined when it was not open (completed meanwhile). */
export async function completeAction(db: DatabaseOrTransaction, caseId: string, id: string, now: Date): Promise<CaseAction | undefined> {
  const [row] = await db
    .update(caseActions)
    .set({ status: 'done', completedAt: now })
    .where(and(eq(caseActions.caseId, caseId), eq(caseActions.id, id), eq(caseActions.status, 'open')))
    .returning();
  return row;
}

/** Gives an open action to another officer; undefined when it was not open. */
export async function reassignAction(db: DatabaseOrTransaction, caseId: string, id: string, owner: string): Promise<CaseAction | undefined> {
  const [row] = await db
    .update(caseActions)
    .set({ ownerAadObjectId: owner })
    .where(and(eq(caseActions.caseId, caseId), eq(caseActions.id, id), eq(caseActions.status, 'open')))
    .returning();
  return row;
}
