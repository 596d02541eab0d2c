/**
 * What the reminder sweep reads and moves on. Each claim locks its rows
 * (FOR UPDATE SKIP LOCKED) for the caller's transaction, so several
 * instances sweeping at once take different rows; the stage columns move
 * forward in the same transaction that queues the messages.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { executeRows } from '../client.js';
import { caseActions, cases, outbox, referrals, userSettings } from '../schema.js';

export interface ActionToRemind {
  readonly id: string;
  readonly caseId: string;
  readonly areaId: string;
  readonly reference: string;
  readonly ownerAadObjectId: string;
  readonly dueOn: string;
  readonly stage: number;
}

/**
 * Open actions whose reminder stage is behind where it should be today.
 * Reads the partial index of actions still owed a reminder (stage < 4) from
 * the oldest due date up to tomorrow, so the cost follows the number due,
 * not the number open.
 */
export async function claimActionsToRemind(
  db: DatabaseOrTransaction,
  d: { today: string; tomorrow: string; escalateOnOrBefore: string },
  limit: number,
): Promise<ActionToRemind[]> {
  const rows = await executeRows<{ id: string; case_id: string; area_id: string; reference: string; owner: string; due_on: string; stage: number }>(
    db,
    sql`select a.id, a.case_id, c.area_id, r.reference, a.owner_aad_object_id as owner, a.due_on::text as due_on, a.reminder_stage as stage
        from ${caseActions} a
        join ${cases} c on c.id = a.case_id
        join ${referrals} r on r.id = c.referral_id
        where a.status = 'open' and a.reminder_stage < 4 and a.due_on <= ${d.tomorrow}::date
          and a.reminder_stage < case
            when a.due_on = ${d.tomorrow}::date then 1
            when a.due_on = ${d.today}::date then 2
            when a.due_on <= ${d.escalateOnOrBefore}::date then 4
            else 3 end
        order by a.due_on
        limit ${limit}
        for update of a skip locked`,
  );
  return rows.map((r) => ({ id: r.id, caseId: r.case_id, areaId: r.area_id, reference: r.reference, ownerAadObjectId: r.owner, dueOn: r.due_on, stage: Number(r.stage) }));
}

/** Moves a batch of actions to their new stages: one UPDATE per stage, not one per action. */
export async function setActionStages(db: DatabaseOrTransaction, stages: ReadonlyMap<string, number>): Promise<void> {
  for (const [stage, ids] of byStage(stages)) await db.update(caseActions).set({ reminderStage: stage }).where(inArray(caseActions.id, ids));
}

function byStage(stages: ReadonlyMap<string, number>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [id, stage] of stages) out.set(stage, [...(out.get(stage) ?? []), id]);
  return out;
}

export interface TriageToRemind {
  readonly id: string;
  readonly reference: string;
  readonly areaId: string;
  readonly dueOn: string;
  readonly stage: number;
}

/** Untriaged referrals due today or overdue whose reminders are behind. */
export async function claimTriagesToRemind(db: DatabaseOrTransaction, today: string, limit: number): Promise<TriageToRemind[]> {
  const rows = await executeRows<{ id: string; reference: string; area_id: string; due_on: string; stage: number }>(
    db,
    sql`select id, reference, area_id, triage_due_on::text as due_on, triage_reminder_stage as stage
        from ${referrals}
        where status = 'received' and triage_reminder_stage < 2 and triage_due_on <= ${today}::date
          and triage_reminder_stage < case when triage_due_on = ${today}::date then 1 else 2 end
        order by triage_due_on
        limit ${limit}
        for update skip locked`,
  );
  return rows.map((r) => ({ id: r.id, reference: r.reference, areaId: r.area_id, dueOn: r.due_on, stage: Number(r.stage) }));
}

export async function setTriageStages(db: DatabaseOrTransaction, stages: ReadonlyMap<string, number>): Promise<void> {
  for (const [stage, ids] of byStage(stages)) await db.update(referrals).set({ triageReminderStage: stage }).where(inArray(referrals.id, ids));
}

export type ReminderMode = 'immediate' | 'digest';

export async function reminderModes(db: DatabaseOrTransaction, aadObjectIds: readonly string[]): Promise<Map<string, ReminderMode>> {
  if (aadObjectIds.length === 0) return new Map();
  const rows = await db.select().from(userSettings).where(inArray(userSettings.aadObjectId, [...aadObjectIds]));
  return new Map(rows.map((r) => [r.aadObjectId, r.reminderMode]));
}

export async function setReminderMode(db: DatabaseOrTransaction, aadObjectId: string, mode: ReminderMode, now: Date): Promise<void> {
  await db
    .insert(userSettings)
    .values({ aadObjectId, reminderMode: mode, updatedAt: now })
    .onConflictDoUpdate({ target: userSettings.aadObjectId, set: { reminderMode: mode, updatedAt: now } });
}

export interface HeldMessage {
  readonly id: string;
  readonly kind: string;
  readonly recipientAadObjectId: string;
  readonly payload: Record<string, unknown>;
  /** The digest this message waits for. */
  readonly digestAt: Date;
}

/** Messages held for digests that are due now, locked for the caller's transaction. */
export async function claimHeldDue(db: DatabaseOrTransaction, now: Date, limit: number): Promise<HeldMessage[]> {
  const rows = await executeRows<{ id: string; kind: string; recipient: string; payload: Record<string, unknown>; digest_at: string | Date }>(
    db,
    sql`select id, kind, recipient_aad_object_id as recipient, payload, next_attempt_at as digest_at
        from ${outbox}
        where status = 'held' and next_attempt_at <= ${now.toISOString()}::timestamptz
        order by next_attempt_at, recipient_aad_object_id, created_at
        limit ${limit}
        for update skip locked`,
  );
  return rows.map((r) => ({ id: r.id, kind: r.kind, recipientAadObjectId: r.recipient, payload: r.payload, digestAt: new Date(r.digest_at) }));
}

/** Held messages now carried by a digest: kept as the record that they were sent. */
export async function markDigested(db: DatabaseOrTransaction, ids: readonly string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.update(outbox).set({ status: 'digested', sentAt: now }).where(and(inArray(outbox.id, [...ids]), eq(outbox.status, 'held')));
}

export interface DueAction {
  readonly id: string;
  readonly reference: string;
  readonly kind: 'officer' | 'system';
  readonly title: string;
  readonly dueOn: string;
}

/** `due`: my open actions due by `until` (overdue included), oldest first. */
export async function listDueActions(db: DatabaseOrTransaction, owner: string, until: string, limit: number): Promise<DueAction[]> {
  const rows = await executeRows<{ id: string; reference: string; kind: 'officer' | 'system'; title: string; due_on: string }>(
    db,
    sql`select a.id, r.reference, a.kind, a.title, a.due_on::text as due_on
        from ${caseActions} a
        join ${cases} c on c.id = a.case_id
        join ${referrals} r on r.id = c.referral_id
        where a.owner_aad_object_id = ${owner} and a.status = 'open' and a.due_on <= ${until}::date
        order by a.due_on, a.created_at
        limit ${limit}`,
  );
  return rows.map((r) => ({ id: r.id, reference: r.reference, kind: r.kind, title: r.title, dueOn: r.due_on }));
}

export interface DueTriage {
  readonly reference: string;
  readonly areaId: string;
  readonly dueOn: string;
}

/** `due`: untriaged referrals of my areas due by `until`. */
export async function listDueTriages(db: DatabaseOrTransaction, areaIds: readonly string[], until: string, limit: number): Promise<DueTriage[]> {
  if (areaIds.length === 0) return [];
  const rows = await db
    .select({ reference: referrals.reference, areaId: referrals.areaId, dueOn: referrals.triageDueOn })
    .from(referrals)
    .where(and(inArray(referrals.areaId, [...areaIds]), eq(referrals.status, 'received'), sql`${referrals.triageDueOn} <= ${until}::date`))
    .orderBy(referrals.triageDueOn, referrals.submittedAt)
    .limit(limit);
  return rows;
}

/** Actions by id, for rendering reminders (titles are not copied into the outbox). */
export async function actionsByIds(db: DatabaseOrTransaction, ids: readonly string[]): Promise<Map<string, DueAction & { status: 'open' | 'done' }>> {
  if (ids.length === 0) return new Map();
  const rows = await executeRows<{ id: string; reference: string; kind: 'officer' | 'system'; title: string; due_on: string; status: 'open' | 'done' }>(
    db,
    sql`select a.id, r.reference, a.kind, a.title, a.due_on::text as due_on, a.status
        from ${caseActions} a
        join ${cases} c on c.id = a.case_id
        join ${referrals} r on r.id = c.referral_id
        where a.id in (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
  );
  return new Map(rows.map((r) => [r.id, { id: r.id, reference: r.reference, kind: r.kind, title: r.title, dueOn: r.due_on, status: r.status }]));
}
