/**
 * Cards for retention reviews (DESIGN §7): the list of reviews due, the
 * review (why the record was kept, what it holds, Keep / Propose deletion),
 * its two forms, and the deletion's approval card (the same template and
 * behaviour as transfers: refresh, buttons only for whoever may act).
 */
import type { RetentionScreen } from '../app/retention.js';
import type { Notice } from '../app/cases.js';
import { formatCalendarDate, formatLondonDate, formatLondonDateTime } from '../domain/time.js';
import type { FieldError, StepDefinition } from '../domain/forms.js';
import { deletionDecisionForm, proposeDeletionForm, retainForm } from '../forms/retention.js';
import { button, escapeMarkdown, optionalText, renderCard, type ButtonView, type NoticeView } from './cards.js';
import { displayValue, fieldView, tk, type ViewContext } from './views.js';

type Card = Record<string, unknown>;

function noticeView(v: ViewContext, n: Notice | undefined): NoticeView {
  if (!n) return [];
  const params = { ...(n.params ?? {}) };
  if (params.name) params.name = escapeMarkdown(params.name);
  if (params.at) params.at = formatLondonDateTime(new Date(params.at));
  if (params.date && /^\d{4}-\d{2}-\d{2}$/.test(params.date)) params.date = formatCalendarDate(params.date);
  return [{ text: tk(v.t, n.key, params), color: n.tone === 'good' ? 'Good' : 'Attention' }];
}

const nameOf = (v: ViewContext, aad: string | null): string => (aad ? escapeMarkdown(v.directory.person(aad)?.name ?? aad) : '');
const areaName = (v: ViewContext, id: string): string => v.directory.area(id)?.name ?? id;

function fields(v: ViewContext, step: StepDefinition, values: Record<string, string> | undefined, errors: Record<string, FieldError> | undefined) {
  return step.fields.map((f) => fieldView(v, step, f, values?.[f.id] ?? '', errors?.[f.id]));
}

/** Renders any retention screen; `userIds` are the Teams ids the deletion card refreshes for. */
export function retentionScreenCard(v: ViewContext, screen: RetentionScreen, userIds: readonly string[]): Card {
  switch (screen.kind) {
    case 'reviews':
      return renderCard('reminder', {
        title: v.t('reviews.title'),
        titleColor: 'Default',
        lines: [{ text: screen.items.length === 0 ? v.t('reviews.none') : v.t('reviews.intro') }],
        items: screen.items.map((r) => ({
          heading: v.t('reviews.item', { reference: r.reference, area: areaName(v, r.areaId) }),
          detail: v.t('reviews.due', { due: formatCalendarDate(r.reviewDueOn) }),
          color: r.reviewDueOn < v.today ? ('Attention' as const) : ('Warning' as const),
          buttons: [button(v.t('remind.openReview'), 'retention.open', { reference: r.reference })],
        })),
        buttons: [],
      });
    case 'review':
      return screen.form ? reviewForm(v, screen) : reviewCard(v, screen);
    case 'deletion':
      return deletionCard(v, screen, userIds);
    case 'exportReady': {
      const data = { reference: screen.reference };
      return renderCard('export', {
        title: v.t('export.title', { reference: screen.reference }),
        body: v.t('export.body', { until: formatLondonDateTime(screen.expiresAt) }),
        openLabel: v.t('export.open'),
        url: screen.url,
        backLabel: v.t('case.btn.back'),
        backData: data,
        backSubmitData: button('', 'retention.open', data).submitData,
      });
    }
  }
}

function reviewCard(v: ViewContext, s: Extract<RetentionScreen, { kind: 'review' }>): Card {
  const r = s.record;
  const ref = { reference: r.referral.reference };
  const policy = r.pathway.retention;
  const why: Array<{ label: string; value: string }> = [];
  if (r.lastDecision) {
    why.push({
      label: '',
      value: v.t('review.whyDecision', {
        name: nameOf(v, r.lastDecision.decidedByAadObjectId),
        date: formatLondonDate(r.lastDecision.decidedAt),
        justification: escapeMarkdown(r.lastDecision.justification),
      }),
    });
    if (r.lastDecision.childJustification) why.push({ label: '', value: v.t('review.whyChild', { justification: escapeMarkdown(r.lastDecision.childJustification) }) });
  } else {
    why.push({ label: '', value: v.t('review.whyPolicy', { nfa: policy.noFurtherActionYears, other: policy.otherYears }) });
  }
  const holds: Array<{ label: string; value: string }> = [
    { label: '', value: v.t('review.holds.referral', { date: formatLondonDate(r.referral.submittedAt), status: v.t(`status.${r.referral.status}`) }) },
  ];
  if (r.triage) holds.push({ label: '', value: v.t('review.holds.triage', { outcome: displayValue(v, r.pathway.caseForms.triage.fields[0]!, r.triage.outcome) }) });
  if (r.case) {
    holds.push({
      label: '',
      value: v.t('review.holds.case', {
        kind: v.t(`case.kind.${r.case.kind}`),
        status: v.t(`case.status.${r.case.status}`).toLowerCase(),
        entries: r.holdings.entries,
        actions: r.holdings.openActions,
        transfers: r.holdings.transfers,
        grants: r.holdings.grants,
      }),
    });
  }
  const notices: Array<NoticeView[number]> = [...noticeView(v, s.notice)];
  if (r.needsChildJustification) notices.push({ text: v.t('review.childWarning', { age: policy.childUnder }), color: 'Attention' });
  if (r.pendingDeletion) notices.push({ text: v.t('review.pendingDeletion', { date: formatLondonDate(r.pendingDeletion.requestedAt) }), color: 'Attention' });
  const buttons: Array<ButtonView & { style: 'default' | 'positive' }> = r.pendingDeletion
    ? [{ ...button(v.t('approvals.open'), 'approval.open', { subject: 'deletion', id: r.pendingDeletion.id }), style: 'default' }]
    : [
        { ...button(v.t('review.btn.retain'), 'retention.form', { ...ref, form: 'retain' }), style: 'positive' },
        { ...button(v.t('review.btn.propose'), 'retention.form', { ...ref, form: 'proposeDeletion' }), style: 'default' },
      ];
  if (r.case || r.triage || r.referral.status === 'received') buttons.push({ ...button(v.t('review.btn.case'), 'referral.open', ref), style: 'default' });
  // Supervisors only (the use-case checks): a subject access export, before any purge.
  buttons.push({ ...button(v.t('review.btn.export'), 'retention.export', ref), style: 'default' });
  return renderCard('referral-view', {
    title: v.t('review.title', { reference: r.referral.reference }),
    meta: v.t('review.meta', { due: r.reviewDueOn ? formatCalendarDate(r.reviewDueOn) : '', area: areaName(v, r.case?.areaId ?? r.referral.areaId) }),
    // The result of the last step, then standing warnings.
    notice: notices,
    triage: [],
    buttons,
    sections: [
      { title: v.t('review.why'), answers: why },
      { title: v.t('review.holds'), answers: holds },
    ],
    audited: v.t('view.audited'),
  });
}

function reviewForm(v: ViewContext, s: Extract<RetentionScreen, { kind: 'review' }>): Card {
  const r = s.record;
  const reference = r.referral.reference;
  const retain = s.form === 'retain';
  const step = retain ? retainForm : proposeDeletionForm;
  const shown = retain && !r.needsChildJustification ? { ...step, fields: step.fields.filter((f) => f.id !== 'childJustification') } : step;
  const verb = retain ? 'retention.retain' : 'retention.propose';
  const data = { reference };
  return renderCard('case-form', {
    t: { save: v.t(retain ? 'review.btn.retain' : 'review.btn.propose'), cancel: v.t('form.cancel') },
    title: v.t(retain ? 'form.retain.title' : 'form.proposeDeletion.title', { reference }),
    context: r.needsChildJustification ? v.t('review.childWarning', { age: r.pathway.retention.childUnder }) : '',
    intro: retain ? v.t('form.retain.intro', { years: r.pathway.retention.maxRetainYears }) : v.t('form.proposeDeletion.intro'),
    errorSummary: optionalText(s.errors && Object.keys(s.errors).length > 0 ? v.t('wizard.errorSummary') : ''),
    fields: fields(v, shown, s.values, s.errors),
    verb,
    actionData: data,
    submitData: button('', verb, data).submitData,
    cancelVerb: 'retention.open',
    cancelData: data,
    cancelSubmitData: button('', 'retention.open', data).submitData,
  });
}

function deletionCard(v: ViewContext, s: Extract<RetentionScreen, { kind: 'deletion' }>, userIds: readonly string[]): Card {
  const d = s.request;
  const pending = d.status === 'pending';
  const decider = s.role === 'decider';
  const data = { id: d.id };
  const buttons: Array<ButtonView & { style: 'default' | 'positive' | 'destructive' }> = [];
  if (decider && pending) {
    buttons.push({ ...button(v.t('deletion.btn.approve'), 'deletion.approve', data), style: 'destructive' }, { ...button(v.t('deletion.btn.decline'), 'deletion.decline', data), style: 'positive' });
  }
  if (s.role === 'requester' && pending) buttons.push({ ...button(v.t('deletion.btn.withdraw'), 'deletion.withdraw', data), style: 'default' });
  if (pending && s.role !== 'other') buttons.push({ ...button(v.t('remind.openReview'), 'retention.open', { reference: d.reference }), style: 'default' });
  const color = d.status === 'pending' ? 'Warning' : d.status === 'approved' ? 'Good' : 'Attention';
  return renderCard('approval', {
    refresh: { action: { type: 'Action.Execute', verb: 'approval.refresh', data: { subject: 'deletion', id: d.id } }, userIds: userIds.slice(0, 60) },
    title: v.t('deletion.card.title', { reference: d.reference }),
    status: tk(v.t, `deletion.status.${d.status}`, {
      area: areaName(v, d.areaId),
      name: nameOf(v, d.decidedByAadObjectId),
      at: d.decidedAt ? formatLondonDateTime(d.decidedAt) : '',
    }),
    statusColor: color,
    notice: noticeView(v, s.notice),
    facts: [
      { title: v.t('case.area'), value: areaName(v, d.areaId) },
      { title: v.t('transfer.requestedBy'), value: nameOf(v, d.requestedByAadObjectId) },
      { title: v.t('transfer.requestedOn'), value: formatLondonDate(d.requestedAt) },
    ],
    texts:
      s.role !== 'other'
        ? [
            ...(d.reason ? [{ label: v.t('deletion.reason'), value: escapeMarkdown(d.reason) }] : []),
            ...(d.decisionNote ? [{ label: v.t('approval.decisionNote'), value: escapeMarkdown(d.decisionNote) }] : []),
          ]
        : [],
    errorSummary: optionalText(s.errors && Object.keys(s.errors).length > 0 ? v.t('wizard.errorSummary') : ''),
    fields: decider && pending ? fields(v, deletionDecisionForm, s.values, s.errors) : [],
    footer: v.t(decider && pending ? 'deletion.footer.decider' : 'approval.footer'),
    buttons,
  });
}
