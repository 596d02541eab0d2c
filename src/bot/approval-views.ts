/**
 * Cards for transfers and access requests: the approval card (one template,
 * three audiences: who decides, who asked, anyone else), the `approvals`
 * list, the access request forms, and the record as a grant shows it.
 * Approval cards carry `refresh` with the viewers' Teams ids, so Teams asks
 * for the current card whenever one of them looks at it.
 */
import type { ApprovalScreen } from '../app/approvals.js';
import type { Notice } from '../app/cases.js';
import { accessScopes, grantCovers } from '../domain/approvals.js';
import { currentConsent, vulnerabilityHistory } from '../domain/case.js';
import { personAge, type FieldError, type StepDefinition } from '../domain/forms.js';
import { formatCalendarDate, formatLondonDate, formatLondonDateTime } from '../domain/time.js';
import { accessDecisionForm, accessFindForm, accessRequestForm, transferDecisionForm } from '../forms/approvals.js';
import { pathways, preventPathway } from '../forms/prevent.js';
import { button, escapeMarkdown, optionalText, renderCard, type ApprovalCard, type ButtonView, type NoticeView, type SectionView } from './cards.js';
import { answerSections, displayValue, fieldView, messageCard, tk, type ViewContext } from './views.js';

type Card = Record<string, unknown>;
type Style = 'default' | 'positive' | 'destructive';

function noticeView(v: ViewContext, n: Notice | undefined): NoticeView {
  if (!n) return [];
  const params = { ...(n.params ?? {}) };
  if (params.name) params.name = escapeMarkdown(params.name);
  if (params.at) params.at = formatLondonDateTime(new Date(params.at));
  return [{ text: tk(v.t, n.key, params), color: n.tone === 'good' ? 'Good' : 'Attention' }];
}

const nameOf = (v: ViewContext, aad: string | null): string => (aad ? escapeMarkdown(v.directory.person(aad)?.name ?? aad) : '');
const areaName = (v: ViewContext, id: string): string => v.directory.area(id)?.name ?? id;
const styled = (b: ButtonView, style: Style) => ({ ...b, style });

function fields(v: ViewContext, step: StepDefinition, values: Record<string, string> | undefined, errors: Record<string, FieldError> | undefined) {
  return step.fields.map((f) => fieldView(v, step, f, values?.[f.id] ?? '', errors?.[f.id]));
}

function refresh(subject: 'transfer' | 'access', id: string, userIds: readonly string[]): ApprovalCard['refresh'] {
  return { action: { type: 'Action.Execute', verb: 'approval.refresh', data: { subject, id } }, userIds: userIds.slice(0, 60) };
}

/** Renders any approval screen; `userIds` are the Teams ids of the people the card goes to (for `refresh`). */
export function approvalScreenCard(v: ViewContext, screen: ApprovalScreen, userIds: readonly string[]): Card {
  switch (screen.kind) {
    case 'transfer':
      return transferCard(v, screen, userIds);
    case 'access':
      return accessCard(v, screen, userIds);
    case 'approvals':
      return approvalsListCard(v, screen);
    case 'accessFind':
      return formCard(v, accessFindForm, 'access.find', {}, screen.values, screen.errors, v.t('access.find.title'), v.t('access.find.intro'), screen.notice);
    case 'accessForm':
      return formCard(
        v,
        accessRequestForm,
        'access.submit',
        { record: screen.referralId },
        screen.values,
        screen.errors,
        v.t('access.form.title'),
        screen.reference ? v.t('access.form.introReference', { reference: screen.reference }) : v.t('access.form.introSearch'),
      );
    case 'accessRefused':
      return messageCard(v.t('access.refused.title'), [v.t('access.refused.body'), v.t('access.refused.recorded')], [{ title: v.t('help.cmd.help'), command: 'help' }], 'Attention');
    case 'ownArea':
      return messageCard(v.t('access.ownArea.title'), [v.t('access.ownArea.body', { reference: screen.reference })], [{ title: v.t('access.ownArea.open'), command: `case ${screen.reference}` }]);
    case 'grant':
      return grantCard(v, screen);
  }
}

function statusLine(
  v: ViewContext,
  subject: 'transfer' | 'access',
  s: { status: string; decidedByAadObjectId: string | null; decidedAt: Date | null },
  extra: Record<string, string> = {},
  o: { hideRequester?: boolean } = {},
) {
  // A withdrawal is by the requester: someone who sees only the state is not told who asked.
  const name = o.hideRequester && s.status === 'withdrawn' ? v.t('approval.theRequester') : nameOf(v, s.decidedByAadObjectId);
  const params = { name, at: s.decidedAt ? formatLondonDateTime(s.decidedAt) : '', ...extra };
  const color: ApprovalCard['statusColor'] = s.status === 'pending' ? 'Warning' : s.status === 'accepted' || s.status === 'granted' ? 'Good' : 'Attention';
  return { status: tk(v.t, `${subject}.status.${s.status}`, params), statusColor: color };
}

function transferCard(v: ViewContext, s: Extract<ApprovalScreen, { kind: 'transfer' }>, userIds: readonly string[]): Card {
  const { transfer: t, reference } = s.view;
  const pending = t.status === 'pending';
  const decider = s.role === 'decider';
  const sees = s.role !== 'other';
  const owner = t.status === 'accepted' ? (t.newOwnerAadObjectId ? nameOf(v, t.newOwnerAadObjectId) : v.t('transfer.owner.queue')) : '';
  const data = { id: t.id };
  const buttons: Array<ButtonView & { style: Style }> = [];
  if (decider && pending) buttons.push(styled(button(v.t('transfer.btn.accept'), 'transfer.accept', data), 'positive'), styled(button(v.t('transfer.btn.decline'), 'transfer.decline', data), 'destructive'));
  if (s.role === 'requester' && pending) buttons.push(styled(button(v.t('transfer.btn.withdraw'), 'transfer.withdraw', data), 'default'));
  // Whoever can see the case where it now is may open it (the use-case checks again).
  if (t.status === 'accepted' || s.role === 'requester') buttons.push(styled(button(v.t('remind.openCase'), 'case.open', { reference }), 'default'));
  const age = s.view.personAge !== undefined ? ` (${s.view.personAge})` : '';
  return renderCard('approval', {
    refresh: refresh('transfer', t.id, userIds),
    title: v.t('transfer.card.title', { reference }),
    ...statusLine(v, 'transfer', t, { area: areaName(v, t.toAreaId), owner }),
    notice: noticeView(v, s.notice),
    facts: [
      ...(sees ? [{ title: v.t('case.person'), value: escapeMarkdown(s.view.personName) + age }, { title: v.t('case.kind'), value: v.t(`case.kind.${s.view.caseKind}`) }] : []),
      { title: v.t('transfer.from'), value: areaName(v, t.fromAreaId) },
      { title: v.t('transfer.to'), value: areaName(v, t.toAreaId) },
      { title: v.t('transfer.requestedBy'), value: nameOf(v, t.requestedByAadObjectId) },
      { title: v.t('transfer.requestedOn'), value: formatLondonDate(t.requestedAt) },
      ...(sees ? [{ title: v.t('transfer.openActions'), value: String(s.view.openActions) }] : []),
    ],
    texts: sees
      ? [
          { label: v.t('field.transfer.reason.label'), value: escapeMarkdown(t.reason) },
          { label: v.t('field.transfer.newAddress.label'), value: escapeMarkdown(t.newAddress) },
          ...(t.decisionNote ? [{ label: v.t('approval.decisionNote'), value: escapeMarkdown(t.decisionNote) }] : []),
        ]
      : [],
    errorSummary: optionalText(s.errors && Object.keys(s.errors).length > 0 ? v.t('wizard.errorSummary') : ''),
    fields: decider && pending ? fields({ ...v, newOwners: s.newOwners }, transferDecisionForm, s.values, s.errors) : [],
    footer: v.t(decider && pending ? 'transfer.footer.decider' : 'approval.footer'),
    buttons,
  });
}

function scopesText(v: ViewContext, scopes: readonly string[]): string {
  return scopes
    .filter((x) => (accessScopes as readonly string[]).includes(x))
    .map((x) => tk(v.t, `choice.accessScope.${x}`))
    .join(', ');
}

function accessCard(v: ViewContext, s: Extract<ApprovalScreen, { kind: 'access' }>, userIds: readonly string[]): Card {
  const { request: a, reference, active } = s.view;
  const pending = a.status === 'pending';
  const decider = s.role === 'decider';
  const sees = s.role !== 'other';
  const data = { id: a.id };
  const buttons: Array<ButtonView & { style: Style }> = [];
  if (decider && pending) buttons.push(styled(button(v.t('access.btn.grant'), 'access.grant', data), 'positive'), styled(button(v.t('access.btn.decline'), 'access.decline', data), 'destructive'));
  if (s.role === 'requester' && pending) buttons.push(styled(button(v.t('access.btn.withdraw'), 'access.withdraw', data), 'default'));
  if (s.role === 'requester' && active) buttons.push(styled(button(v.t('access.btn.view'), 'access.view', data), 'positive'));
  const requester = v.directory.person(a.requesterAadObjectId);
  const who = `${nameOf(v, a.requesterAadObjectId)} (${a.requesterRole === 'partner' ? v.t('access.role.partner') : v.t('access.role.officer', { areas: (requester?.areas ?? []).map((x) => areaName(v, x)).join(', ') })})`;
  const purposeField = accessRequestForm.fields.find((f) => f.id === 'purpose')!;
  const expired = a.status === 'granted' && !active;
  return renderCard('approval', {
    refresh: refresh('access', a.id, userIds),
    title: reference ? v.t('access.card.titleRef', { reference }) : v.t('access.card.title'),
    ...statusLine(
      v,
      'access',
      expired ? { ...a, status: 'expired' } : a,
      { area: areaName(v, a.areaId), until: a.expiresAt ? formatLondonDateTime(a.expiresAt) : '' },
      { hideRequester: !sees },
    ),
    notice: noticeView(v, s.notice),
    facts: sees
      ? [
          { title: v.t('access.requester'), value: who },
          { title: v.t('case.area'), value: areaName(v, a.areaId) },
          { title: v.t('field.accessRequest.purpose.label'), value: displayValue(v, purposeField, a.purpose) },
          { title: v.t('field.accessRequest.scopes.label'), value: scopesText(v, a.scopes) },
          { title: v.t('access.period'), value: v.t('access.days', { n: a.days }) },
          { title: v.t('transfer.requestedOn'), value: formatLondonDate(a.requestedAt) },
        ]
      : [{ title: v.t('case.area'), value: areaName(v, a.areaId) }],
    texts: sees
      ? [
          ...(a.purposeDetail ? [{ label: v.t('field.accessRequest.purposeDetail.label'), value: escapeMarkdown(a.purposeDetail) }] : []),
          ...(a.justification ? [{ label: v.t('field.accessRequest.justification.label'), value: escapeMarkdown(a.justification) }] : []),
          ...(a.decisionNote ? [{ label: v.t('approval.decisionNote'), value: escapeMarkdown(a.decisionNote) }] : []),
        ]
      : [],
    errorSummary: optionalText(s.errors && Object.keys(s.errors).length > 0 ? v.t('wizard.errorSummary') : ''),
    fields: decider && pending ? fields(v, accessDecisionForm, s.values, s.errors) : [],
    footer: v.t(decider && pending ? 'access.footer.decider' : 'approval.footer'),
    buttons,
  });
}

function approvalsListCard(v: ViewContext, s: Extract<ApprovalScreen, { kind: 'approvals' }>): Card {
  type Item = { heading: string; detail: string; color: 'Default' | 'Attention' | 'Warning'; buttons: ButtonView[] };
  const open = (subject: 'transfer' | 'access', id: string) => [button(v.t('approvals.open'), 'approval.open', { subject, id })];
  const items: Item[] = [
    ...s.transfersIn.map((t) => ({
      heading: v.t('approvals.transferIn', { reference: t.reference, from: areaName(v, t.fromAreaId), to: areaName(v, t.toAreaId) }),
      detail: v.t('approvals.askedBy', { name: nameOf(v, t.requestedByAadObjectId), date: formatLondonDate(t.requestedAt) }),
      color: 'Warning' as const,
      buttons: open('transfer', t.id),
    })),
    ...s.accessIn.map((a) => ({
      heading: v.t('approvals.accessIn', { reference: a.reference, area: areaName(v, a.areaId) }),
      detail: v.t('approvals.askedBy', { name: nameOf(v, a.requesterAadObjectId), date: formatLondonDate(a.requestedAt) }),
      color: 'Warning' as const,
      buttons: open('access', a.id),
    })),
    ...s.myTransfers.map((t) => ({
      heading: v.t('approvals.myTransfer', { reference: t.reference, to: areaName(v, t.toAreaId) }),
      detail: v.t('approvals.waitingSince', { date: formatLondonDate(t.requestedAt) }),
      color: 'Default' as const,
      buttons: open('transfer', t.id),
    })),
    ...s.myAccess.map((a) => ({
      heading: a.status === 'granted' ? v.t('approvals.myGrant', { until: a.expiresAt ? formatLondonDateTime(a.expiresAt) : '' }) : v.t('approvals.myAccess', { area: areaName(v, a.areaId) }),
      detail: v.t('approvals.waitingSince', { date: formatLondonDate(a.requestedAt) }),
      color: 'Default' as const,
      buttons: open('access', a.id),
    })),
  ];
  const toDecide = s.transfersIn.length + s.accessIn.length;
  return renderCard('reminder', {
    title: v.t('approvals.title'),
    titleColor: 'Default',
    lines: [{ text: items.length === 0 ? v.t('approvals.none') : v.t('approvals.intro', { n: toDecide }) }],
    items,
    buttons: [button(v.t('approvals.requestAccess'), 'access.start', {})],
  });
}

function formCard(
  v: ViewContext,
  step: StepDefinition,
  verb: string,
  data: Record<string, string>,
  values: Record<string, string>,
  errors: Record<string, FieldError>,
  title: string,
  intro: string,
  notice?: Notice,
): Card {
  const n = noticeView(v, notice);
  return renderCard('case-form', {
    t: { save: v.t(verb === 'access.find' ? 'access.find.go' : 'access.form.send'), cancel: v.t('form.cancel') },
    title,
    context: n[0]?.text ?? '',
    intro,
    errorSummary: optionalText(Object.keys(errors).length > 0 ? v.t('wizard.errorSummary') : ''),
    fields: fields(v, step, values, errors),
    verb,
    actionData: data,
    submitData: button('', verb, data).submitData,
    cancelVerb: 'approvals.list',
    cancelData: {},
    cancelSubmitData: button('', 'approvals.list', {}).submitData,
  });
}

/** The record as a grant shows it: read-only, the parts asked for, with the purpose and the end of the grant on top. */
function grantCard(v: ViewContext, s: Extract<ApprovalScreen, { kind: 'grant' }>): Card {
  const { referral: r, triage, case: c, entries, scopes } = s.record;
  const pathway = pathways[r.pathway] ?? preventPathway;
  const names = r.answers[pathway.personNameFields.step] ?? {};
  const age = personAge(pathway, r.answers, v.today);
  const sections: SectionView[] = [];
  const summary: Array<{ label: string; value: string }> = [
    { label: v.t('case.person'), value: escapeMarkdown([names[pathway.personNameFields.first], names[pathway.personNameFields.last]].filter(Boolean).join(' ')) + (age !== undefined ? ` (${age})` : '') },
    { label: v.t('case.area'), value: areaName(v, c?.areaId ?? r.areaId) },
    { label: v.t('grant.received'), value: formatLondonDate(r.submittedAt) },
    { label: v.t('grant.outcome'), value: triage ? displayValue(v, pathway.caseForms.triage.fields[0]!, triage.outcome) : v.t('grant.awaiting') },
    ...(c ? [{ label: v.t('case.kind'), value: v.t(`case.kind.${c.kind}`) }, { label: v.t('case.status'), value: v.t(`case.status.${c.status}`) }] : []),
  ];
  sections.push({ title: v.t('grant.summary'), answers: summary });
  if (grantCovers(scopes, 'vulnerabilities')) {
    const history = vulnerabilityHistory(entries);
    sections.push({
      title: v.t('case.vulnerability'),
      answers:
        history.length === 0
          ? [{ label: '', value: v.t('case.vulnerabilityNone') }]
          : history.map((h) => ({ label: formatCalendarDate(h.assessedOn), value: v.t('case.historyLine', { date: formatCalendarDate(h.assessedOn), engagement: h.engagement, intent: h.intent, capability: h.capability, total: h.total }) })),
    });
  }
  if (grantCovers(scopes, 'contacts')) {
    const consent = currentConsent(entries);
    const contacts = entries.filter((e) => e.kind === 'contact');
    sections.push({
      title: v.t('grant.contacts'),
      answers: [
        { label: v.t('case.consent'), value: consent ? displayValue(v, pathway.caseForms.consent.fields[0]!, consent.data.status!) : v.t('case.consentNone') },
        ...contacts.map((e) => ({
          label: formatCalendarDate(String(e.data.madeOn)),
          value: displayValue(v, pathway.caseForms.contact.fields[1]!, e.data.method!) + (e.data.note ? ` · ${escapeMarkdown(String(e.data.note))}` : ''),
        })),
      ],
    });
  }
  if (scopes.includes('full')) {
    sections.push(...answerSections(v, pathway, r.answers, 'officer'));
    if (entries.length > 0) {
      sections.push({
        title: v.t('grant.chronology'),
        answers: entries
          .slice()
          .reverse()
          .map((e) => ({ label: formatLondonDateTime(e.at), value: tk(v.t, `grant.entry.${e.kind}`) })),
      });
    }
  }
  return renderCard('referral-view', {
    title: v.t('grant.title', { reference: r.reference }),
    meta: v.t('grant.meta', { until: s.grant.expiresAt ? formatLondonDateTime(s.grant.expiresAt) : '' }),
    notice: [{ text: v.t('grant.readOnly'), color: 'Warning' }],
    triage: [],
    buttons: [],
    sections,
    audited: v.t('grant.audited'),
  });
}

