/**
 * The reminder sweep (DESIGN §4): from the database, not from timers in
 * memory. Each pass claims the actions and triages whose reminders are
 * behind (row locks, SKIP LOCKED), queues the messages with unique keys
 * (kind : subject : due date : recipient) and moves their stage on, in one
 * transaction per batch. A crash before commit leaves everything to the next
 * pass; a second instance takes other rows; a key already queued is skipped.
 * Non-urgent reminders for people who chose the digest are held until 08:00
 * London, when the digest pass gathers them into one message.
 */
import type { AppDeps } from './context.js';
import { isCaseWorker, isTrained, trainedCaseWorkers } from '../domain/permissions.js';
import type { Actor } from '../domain/directory.js';
import { DomainError } from '../domain/errors.js';
import { appendAudit } from '../db/repositories/audit.js';
import { londonDate, nextLondonHour } from '../domain/time.js';
import {
  DIGEST_HOUR,
  actionReminders,
  actionTargetStage,
  escalationCutoff,
  nextDay,
  notificationKinds,
  triageTargetStage,
  type NotificationKind,
} from '../domain/reminders.js';
import * as remindersRepo from '../db/repositories/reminders.js';
import { enqueueMessages, type OutboxMessage } from '../db/repositories/outbox.js';
import type { Transaction } from '../db/client.js';
import { sweepApprovals } from './approvals.js';
import { reviewRecipients } from './retention.js';
import * as retentionRepo from '../db/repositories/retention.js';

export interface SweepOptions {
  /** Working days overdue after which an action goes to the area's supervisors (default 3). */
  readonly escalateAfterWorkingDays?: number;
  /** Rows per transaction. */
  readonly batchSize?: number;
}

export interface SweepResult {
  readonly actions: number;
  readonly triages: number;
  readonly digests: number;
  readonly queued: number;
}

interface Queue {
  add(kind: NotificationKind, subject: string, dueOn: string, recipient: string, payload: Record<string, unknown>): void;
  readonly messages: OutboxMessage[];
}

/** Runs every source until nothing is behind. Safe to run on any number of instances at once. */
export async function runReminderSweep(deps: AppDeps, o: SweepOptions = {}): Promise<SweepResult> {
  const batch = o.batchSize ?? 500;
  const escalateAfter = o.escalateAfterWorkingDays ?? 3;
  let actions = 0;
  let triages = 0;
  let digests = 0;
  let queued = 0;

  for (;;) {
    const n = await sweepActions(deps, batch, escalateAfter);
    actions += n.rows;
    queued += n.queued;
    if (n.rows < batch) break;
  }
  for (;;) {
    const n = await sweepTriages(deps, batch);
    triages += n.rows;
    queued += n.queued;
    if (n.rows < batch) break;
  }
  // Transfers waiting too long, and grants about to end.
  queued += await sweepApprovals(deps, batch);
  for (;;) {
    const n = await sweepRetentionReviews(deps, batch);
    queued += n.queued;
    if (n.rows < batch) break;
  }
  for (;;) {
    const n = await sweepDigests(deps, batch);
    digests += n.digests;
    queued += n.digests;
    if (n.rows < batch) break;
  }
  if (queued > 0) deps.messagesQueued();
  return { actions, triages, digests, queued };
}

/** Builds a batch's messages, holding non-urgent ones for people who chose the digest. */
function queueFor(tx: Transaction, now: Date): Queue & { flush(): Promise<void> } {
  const pending: Array<OutboxMessage & { urgent: boolean }> = [];
  return {
    messages: pending,
    add(kind, subject, dueOn, recipient, payload) {
      pending.push({ key: `${kind}:${subject}:${dueOn}:${recipient}`, kind, recipientAadObjectId: recipient, payload, urgent: notificationKinds[kind].urgent });
    },
    async flush() {
      const modes = await remindersRepo.reminderModes(tx, [...new Set(pending.filter((m) => !m.urgent).map((m) => m.recipientAadObjectId))]);
      const digestAt = nextLondonHour(now, DIGEST_HOUR);
      await enqueueMessages(
        tx,
        pending.map(({ urgent, ...m }) => (!urgent && modes.get(m.recipientAadObjectId) === 'digest' ? { ...m, holdUntil: digestAt } : m)),
        now,
      );
    },
  };
}

async function sweepActions(deps: AppDeps, batch: number, escalateAfter: number): Promise<{ rows: number; queued: number }> {
  const now = deps.now();
  const today = londonDate(now);
  const d = { today, tomorrow: nextDay(today), escalateOnOrBefore: escalationCutoff(today, escalateAfter) };
  return deps.db.transaction(async (tx) => {
    const rows = await remindersRepo.claimActionsToRemind(tx, d, batch);
    const q = queueFor(tx, now);
    const stages = new Map<string, number>();
    for (const a of rows) {
      const target = actionTargetStage(a.dueOn, today, escalateAfter);
      const send = actionReminders(a.stage, target);
      const payload = { reference: a.reference, actionId: a.id, dueOn: a.dueOn };
      if (send.owner) q.add(send.owner, a.id, a.dueOn, a.ownerAadObjectId, payload);
      if (send.supervisors) {
        for (const s of trainedCaseWorkers(deps.directory, a.areaId, today, { supervisorsOnly: true })) q.add(send.supervisors, a.id, a.dueOn, s, { ...payload, ownerAadObjectId: a.ownerAadObjectId });
      }
      stages.set(a.id, target);
    }
    await remindersRepo.setActionStages(tx, stages);
    await q.flush();
    return { rows: rows.length, queued: q.messages.length };
  });
}

async function sweepTriages(deps: AppDeps, batch: number): Promise<{ rows: number; queued: number }> {
  const now = deps.now();
  const today = londonDate(now);
  return deps.db.transaction(async (tx) => {
    const rows = await remindersRepo.claimTriagesToRemind(tx, today, batch);
    const q = queueFor(tx, now);
    const stages = new Map<string, number>();
    for (const r of rows) {
      const target = triageTargetStage(r.dueOn, today);
      const kind: NotificationKind = target === 1 ? 'triage.dueToday' : 'triage.overdue';
      for (const p of trainedCaseWorkers(deps.directory, r.areaId, today)) q.add(kind, r.id, r.dueOn, p, { reference: r.reference, areaId: r.areaId, dueOn: r.dueOn });
      stages.set(r.id, target);
    }
    await remindersRepo.setTriageStages(tx, stages);
    await q.flush();
    return { rows: rows.length, queued: q.messages.length };
  });
}

/** Gathers held messages whose 08:00 has come into one digest per person. */
async function sweepDigests(deps: AppDeps, batch: number): Promise<{ rows: number; digests: number }> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const held = await remindersRepo.claimHeldDue(tx, now, batch);
    const groups = new Map<string, remindersRepo.HeldMessage[]>();
    for (const m of held) {
      const k = `${m.recipientAadObjectId}|${m.digestAt.toISOString()}`;
      groups.set(k, [...(groups.get(k) ?? []), m]);
    }
    const digests: OutboxMessage[] = [...groups.values()].map((items) => ({
      // The first held id makes the key unique even when one person's items span two batches.
      key: `digest:${items[0]!.recipientAadObjectId}:${items[0]!.digestAt.toISOString()}:${items[0]!.id}`,
      kind: 'digest',
      recipientAadObjectId: items[0]!.recipientAadObjectId,
      payload: { items: items.map((m) => ({ kind: m.kind, payload: m.payload })) },
    }));
    await enqueueMessages(tx, digests, now);
    await remindersRepo.markDigested(tx, held.map((m) => m.id), now);
    return { rows: held.length, digests: digests.length };
  });
}

/**
 * Retention reviews that have fallen due: the owner is reminded, or the
 * area's supervisors when the owner can no longer act on it. Once per review
 * date; a Retain that sets a new date brings a new reminder when that comes.
 */
async function sweepRetentionReviews(deps: AppDeps, batch: number): Promise<{ rows: number; queued: number }> {
  const now = deps.now();
  const today = londonDate(now);
  return deps.db.transaction(async (tx) => {
    const rows = await retentionRepo.claimReviewsToRemind(tx, today, batch);
    const q = queueFor(tx, now);
    for (const r of rows) {
      for (const p of reviewRecipients(deps, r, today)) q.add('retention.review', r.referralId, r.reviewDueOn, p, { reference: r.reference, areaId: r.areaId, dueOn: r.reviewDueOn });
    }
    await retentionRepo.markReviewsReminded(tx, rows);
    await q.flush();
    return { rows: rows.length, queued: q.messages.length };
  });
}

/** `settings`: how this person wants non-urgent reminders. */
export async function getReminderMode(deps: AppDeps, aadObjectId: string): Promise<remindersRepo.ReminderMode> {
  return (await remindersRepo.reminderModes(deps.db, [aadObjectId])).get(aadObjectId) ?? 'immediate';
}

export async function setReminderMode(deps: AppDeps, aadObjectId: string, mode: remindersRepo.ReminderMode): Promise<void> {
  await remindersRepo.setReminderMode(deps.db, aadObjectId, mode, deps.now());
}

export interface DueList {
  readonly actions: readonly remindersRepo.DueAction[];
  readonly triages: readonly remindersRepo.DueTriage[];
}

/** `due`: everything due for me by tomorrow, overdue first: my actions, and triages of my areas. */
export async function listDue(deps: AppDeps, actor: Actor): Promise<DueList> {
  const today = londonDate(deps.now());
  if (!isCaseWorker(actor) || !isTrained(actor, today)) {
    await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'due.view_denied', entityType: 'owner', entityId: actor.aadObjectId }]);
    throw new DomainError(isCaseWorker(actor) ? 'training_expired' : 'forbidden');
  }
  const [actions, triages] = await Promise.all([
    remindersRepo.listDueActions(deps.db, actor.aadObjectId, nextDay(today), 50),
    remindersRepo.listDueTriages(deps.db, actor.areas, today, 50),
  ]);
  // Action titles are case data: the list is a view, and audited as one.
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'due.view', entityType: 'owner', entityId: actor.aadObjectId }]);
  return { actions, triages };
}

/**
 * The actions a batch of reminders is about, read when the reminder is sent
 * (titles are case data: the outbox carries ids only). A completed action's
 * reminder is not worth sending.
 */
export async function actionsForReminders(deps: AppDeps, ids: readonly string[]): Promise<Map<string, remindersRepo.DueAction & { status: 'open' | 'done' }>> {
  return remindersRepo.actionsByIds(deps.db, ids);
}
