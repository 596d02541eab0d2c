/**
 * What to remind whom, and when (DESIGN §4). Pure: dates are London calendar
 * dates (YYYY-MM-DD), computed by the caller from its clock.
 *
 * Adding a kind of notification is a declared thing: an entry in
 * `notificationKinds` (is it urgent, or may it wait for the morning digest?),
 * a source that queues it (src/app/reminders.ts), a card that renders it
 * (src/bot/notifications.ts) and its words in the catalogue.
 */
import { addCalendarDays, workingDaysBetween } from './working-days.js';

export const notificationKinds = {
  /** To the trained officers of the area when a referral arrives. */
  'referral.new': { urgent: true },
  /** To the referrer when the status changes (never why). */
  'referral.status': { urgent: true },
  'action.dueTomorrow': { urgent: false },
  'action.dueToday': { urgent: false },
  'action.overdue': { urgent: true },
  /** To the area's supervisors, once, when an action is overdue by more than the set working days. */
  'action.escalated': { urgent: true },
  'triage.dueToday': { urgent: false },
  /** To the area's officers and supervisors when a triage passes its due date. */
  'triage.overdue': { urgent: true },
  /** To the area's supervisors: an officer cannot be reached in Teams (blocked, removed, or never installed). */
  'user.unreachable': { urgent: true },
  /** Approval cards (DESIGN §5, §6): to the supervisors who may decide; rendered from the state at delivery. */
  'transfer.request': { urgent: true },
  /** To the requester and both areas' people when a transfer is accepted or declined. */
  'transfer.decided': { urgent: true },
  /** To the sending area's supervisors when a transfer has waited too long. */
  'transfer.escalated': { urgent: true },
  'access.request': { urgent: true },
  /** To the requester when their access request is decided. */
  'access.decided': { urgent: true },
  /** To the holder of a grant a day before it ends. */
  'access.expiring': { urgent: true },
  /** To the record's owner (or the area's supervisors) when its retention review falls due; may wait for the digest. */
  'retention.review': { urgent: false },
  /** To the area's supervisors: a proposal to delete a record, to approve inline. */
  'deletion.request': { urgent: true },
  /** To the proposer when the deletion is approved or declined. */
  'deletion.decided': { urgent: true },
  /** Brings a delivered approval card up to date in place after a decision. */
  'approval.update': { urgent: true },
  /** Non-urgent reminders gathered for one person at 08:00. */
  digest: { urgent: true },
} as const satisfies Record<string, { urgent: boolean }>;

export type NotificationKind = keyof typeof notificationKinds;

/** Kinds whose message is an approval card, drawn for its recipient from the current state. */
export const approvalCardKinds: readonly NotificationKind[] = [
  'transfer.request',
  'transfer.decided',
  'transfer.escalated',
  'access.request',
  'access.decided',
  'access.expiring',
  'deletion.request',
  'deletion.decided',
];

export const isNotificationKind = (k: string): k is NotificationKind => Object.prototype.hasOwnProperty.call(notificationKinds, k);

/** The morning digest goes out at this London hour. */
export const DIGEST_HOUR = 8;

/** Reminder stages of an action, in order; the sweep only ever moves an action forward. */
export const ActionStage = { none: 0, dueTomorrow: 1, dueToday: 2, overdue: 3, escalated: 4 } as const;

/** The calendar day after a London date. */
export function nextDay(date: string): string {
  return addCalendarDays(date, 1);
}

/**
 * The latest due date that counts as overdue by more than `workingDays`
 * working days on `today`: actions due on or before it are escalated.
 */
export function escalationCutoff(today: string, workingDays: number): string {
  // Step back a day at a time: at most a few weeks even over Christmas.
  for (let i = 1; i <= 60; i++) {
    const candidate = addCalendarDays(today, -i);
    if (workingDaysBetween(candidate, today) > workingDays) return candidate;
  }
  throw new Error('no escalation cutoff within 60 days');
}

/** The stage an action due on `dueOn` should have reached on `today`. */
export function actionTargetStage(dueOn: string, today: string, escalateAfterWorkingDays: number): number {
  const tomorrow = nextDay(today);
  if (dueOn > tomorrow) return ActionStage.none;
  if (dueOn === tomorrow) return ActionStage.dueTomorrow;
  if (dueOn === today) return ActionStage.dueToday;
  return workingDaysBetween(dueOn, today) > escalateAfterWorkingDays ? ActionStage.escalated : ActionStage.overdue;
}

/**
 * The notifications that moving an action from stage `from` to `to` sends.
 * A skipped stage is not sent late: an action first seen overdue gets the
 * overdue reminder, not "due tomorrow" as well.
 */
export function actionReminders(from: number, to: number): { owner?: NotificationKind; supervisors?: NotificationKind } {
  if (to <= from) return {};
  switch (to) {
    case ActionStage.dueTomorrow:
      return { owner: 'action.dueTomorrow' };
    case ActionStage.dueToday:
      return { owner: 'action.dueToday' };
    case ActionStage.overdue:
      return { owner: 'action.overdue' };
    case ActionStage.escalated:
      return from < ActionStage.overdue ? { owner: 'action.overdue', supervisors: 'action.escalated' } : { supervisors: 'action.escalated' };
    default:
      return {};
  }
}

/** Triage reminder stages: 1 due today, 2 overdue. */
export function triageTargetStage(dueOn: string, today: string): number {
  if (dueOn > today) return 0;
  return dueOn === today ? 1 : 2;
}

/** How a due date reads relative to today, for reminder cards rendered later than queued (digests). */
export function dueRelative(dueOn: string, today: string): 'overdue' | 'today' | 'tomorrow' | 'later' {
  if (dueOn < today) return 'overdue';
  if (dueOn === today) return 'today';
  return dueOn === nextDay(today) ? 'tomorrow' : 'later';
}

