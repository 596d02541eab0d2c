/**
 * Cards for proactive notifications, the morning digest, `due` and
 * `settings`. One renderer per notification kind (src/domain/reminders.ts
 * declares the kinds); payloads carry ids and dates only, and case data
 * (action titles) is read when the card is made.
 */
import type { DueList } from '../app/reminders.js';
import type { DueAction } from '../db/repositories/reminders.js';
import { dueRelative, type NotificationKind } from '../domain/reminders.js';
import { formatCalendarDate } from '../domain/time.js';
import { button, escapeMarkdown, renderCard, type ButtonView } from './cards.js';
import { messageCard, statusNoticeCard, noticeCard, tk, type ViewContext } from './views.js';

type Card = Record<string, unknown>;
type Payload = Record<string, unknown>;
type Color = 'Default' | 'Attention' | 'Warning';

const day = formatCalendarDate;
const str = (p: Payload, k: string): string => (typeof p[k] === 'string' ? (p[k] as string) : '');

/** Actions the cards may name, looked up by id when the notification is sent. */
export type ActionLookup = ReadonlyMap<string, DueAction & { status: 'open' | 'done' }>;

interface Item {
  readonly heading: string;
  readonly detail: string;
  readonly color: Color;
  readonly buttons: readonly ButtonView[];
}

function actionTitle(v: ViewContext, a: DueAction | undefined): string {
  if (!a) return '';
  return a.kind === 'system' ? tk(v.t, a.title) : escapeMarkdown(a.title);
}

function dueWords(v: ViewContext, dueOn: string): { text: string; color: Color } {
  const rel = dueRelative(dueOn, v.today);
  const due = day(dueOn);
  switch (rel) {
    case 'overdue':
      return { text: v.t('remind.overdueSince', { due }), color: 'Attention' };
    case 'today':
      return { text: v.t('remind.dueToday'), color: 'Warning' };
    case 'tomorrow':
      return { text: v.t('remind.dueTomorrow'), color: 'Default' };
    default:
      return { text: v.t('remind.dueOn', { due }), color: 'Default' };
  }
}

function actionItem(v: ViewContext, reference: string, actionId: string, dueOn: string, action: DueAction | undefined, extra = ''): Item {
  const due = dueWords(v, dueOn);
  const ref = { reference };
  return {
    heading: `${due.text}: ${actionTitle(v, action) || v.t('remind.anAction')}`,
    detail: [v.t('remind.onCase', { reference }), extra].filter(Boolean).join(' · '),
    color: due.color,
    buttons: [button(v.t('remind.openCase'), 'case.open', ref), button(v.t('case.btn.complete'), 'case.form', { ...ref, form: 'actionComplete', subject: actionId })],
  };
}

function triageItem(v: ViewContext, reference: string, areaId: string, dueOn: string): Item {
  const overdue = dueOn < v.today;
  return {
    heading: overdue ? v.t('remind.triageOverdue', { reference, due: day(dueOn) }) : v.t('remind.triageDueToday', { reference }),
    detail: v.directory.area(areaId)?.name ?? areaId,
    color: overdue ? 'Attention' : 'Warning',
    buttons: [button(v.t('notice.newReferral.open'), 'referral.open', { reference })],
  };
}

function nameOf(v: ViewContext, aad: string): string {
  return escapeMarkdown(v.directory.person(aad)?.name ?? aad);
}

/** The item a held notification becomes inside a digest (or alone in its own card). */
function itemFor(v: ViewContext, kind: string, p: Payload, actions: ActionLookup): Item | undefined {
  switch (kind) {
    case 'action.dueTomorrow':
    case 'action.dueToday':
    case 'action.overdue': {
      const a = actions.get(str(p, 'actionId'));
      if (a?.status === 'done') return undefined;
      return actionItem(v, str(p, 'reference'), str(p, 'actionId'), str(p, 'dueOn'), a);
    }
    case 'action.escalated': {
      const a = actions.get(str(p, 'actionId'));
      if (a?.status === 'done') return undefined;
      return actionItem(v, str(p, 'reference'), str(p, 'actionId'), str(p, 'dueOn'), a, v.t('remind.owner', { owner: nameOf(v, str(p, 'ownerAadObjectId')) }));
    }
    case 'triage.dueToday':
    case 'triage.overdue':
      return triageItem(v, str(p, 'reference'), str(p, 'areaId'), str(p, 'dueOn'));
    case 'retention.review':
      return {
        heading: v.t('remind.reviewDue', { reference: str(p, 'reference'), due: day(str(p, 'dueOn')) }),
        detail: v.directory.area(str(p, 'areaId'))?.name ?? str(p, 'areaId'),
        color: 'Warning',
        buttons: [button(v.t('remind.openReview'), 'retention.open', { reference: str(p, 'reference') })],
      };
    default:
      return undefined;
  }
}

const titles: Partial<Record<NotificationKind, Parameters<ViewContext['t']>[0]>> = {
  'action.dueTomorrow': 'remind.title.dueTomorrow',
  'action.dueToday': 'remind.title.dueToday',
  'action.overdue': 'remind.title.overdue',
  'action.escalated': 'remind.title.escalated',
  'triage.dueToday': 'remind.title.triageDue',
  'triage.overdue': 'remind.title.triageOverdue',
  'retention.review': 'remind.title.review',
};

/** Action ids a notification needs looked up before rendering. */
export function actionIdsOf(kind: string, payload: Payload): string[] {
  if (kind === 'digest') {
    const items = Array.isArray(payload.items) ? (payload.items as Array<{ kind: string; payload: Payload }>) : [];
    return items.flatMap((i) => actionIdsOf(i.kind, i.payload ?? {}));
  }
  return typeof payload.actionId === 'string' ? [payload.actionId] : [];
}

/**
 * The card for a notification, or undefined when there is nothing left to
 * say (the action was completed before the reminder went). Throws for a kind
 * this version cannot render.
 */
export function notificationCard(v: ViewContext, kind: string, p: Payload, actions: ActionLookup): Card | undefined {
  switch (kind) {
    case 'referral.new':
      return noticeCard(v, p as { reference: string; areaId: string; submittedAt: string });
    case 'referral.status':
      return statusNoticeCard(v, p as { reference: string; status: string });
    case 'user.unreachable': {
      const who = nameOf(v, str(p, 'aadObjectId'));
      return messageCard(v.t('remind.unreachable.title', { name: who }), [v.t(p.reason === 'notInstalled' ? 'remind.unreachable.notInstalled' : 'remind.unreachable.blocked', { name: who })], [], 'Attention');
    }
    case 'digest': {
      const entries = Array.isArray(p.items) ? (p.items as Array<{ kind: string; payload: Payload }>) : [];
      const items = entries.map((i) => itemFor(v, i.kind, i.payload ?? {}, actions)).filter((i): i is Item => i !== undefined);
      if (items.length === 0) return undefined;
      return renderCard('reminder', { title: v.t('remind.digest.title'), titleColor: 'Default', lines: [{ text: v.t('remind.digest.intro', { n: items.length }) }], items, buttons: [button(v.t('remind.dueAll'), 'due.list', {})] });
    }
  }
  const title = titles[kind as NotificationKind];
  if (!title) throw new Error(`no card for notification kind ${kind}`);
  const item = itemFor(v, kind, p, actions);
  if (!item) return undefined;
  return renderCard('reminder', { title: v.t(title), titleColor: item.color, lines: [], items: [item], buttons: [] });
}

/** `due`: my actions and my areas' triages, overdue first. */
export function dueCard(v: ViewContext, due: DueList): Card {
  const items: Item[] = [
    ...due.actions.map((a) => actionItem(v, a.reference, a.id, a.dueOn, a)),
    ...due.triages.map((t) => triageItem(v, t.reference, t.areaId, t.dueOn)),
  ].sort((a, b) => rank(a.color) - rank(b.color));
  return renderCard('reminder', {
    title: v.t('due.title'),
    titleColor: 'Default',
    lines: [{ text: items.length === 0 ? v.t('due.none') : v.t('due.intro') }],
    items,
    buttons: [],
  });
}

const rank = (c: Color): number => (c === 'Attention' ? 0 : c === 'Warning' ? 1 : 2);

export function settingsCard(v: ViewContext, mode: 'immediate' | 'digest', saved = false): Card {
  return renderCard('settings', {
    t: { save: v.t('form.save') },
    title: v.t('settings.title'),
    notice: saved ? [{ text: v.t('settings.saved'), color: 'Good' }] : [],
    intro: v.t('settings.intro'),
    label: v.t('settings.mode.label'),
    value: mode,
    choices: [
      { title: v.t('settings.mode.immediate'), value: 'immediate' },
      { title: v.t('settings.mode.digest'), value: 'digest' },
    ],
  });
}
