/**
 * Officers' cards: the triage queue, the referral with its gateway
 * assessment, the case summary, the case forms and the chronology. Card data
 * comes from use-case results; every word from the catalogue; everything a
 * person typed is escaped.
 */
import { QUEUE_COUNT_CAP, type CaseScreen, type FormScreen, type Notice } from '../app/cases.js';
import {
  correctableKinds,
  currentConsent,
  inForce,
  interventions,
  trendOf,
  vulnerabilityHistory,
  type CaseEntry,
} from '../domain/case.js';
import { personAge, type FieldDefinition, type PathwayDefinition, type StepAnswers } from '../domain/forms.js';
import { formatCalendarDate, formatLondonDate, formatLondonDateTime, londonDate } from '../domain/time.js';
import { daysBetween } from '../domain/working-days.js';
import { isMessageKey } from '../i18n/catalogue.js';
import type { Referral } from '../db/repositories/referrals.js';
import { button, escapeMarkdown, optionalText, renderCard, type ButtonView, type NoticeView, type QueueCard, type SectionView } from './cards.js';
import { answerSections, displayValue, fieldView, tk, type ViewContext } from './views.js';

type Card = Record<string, unknown>;

/** A London calendar date as "2 Dec 2026". */
const day = formatCalendarDate;

function noticeView(v: ViewContext, n: Notice | undefined): NoticeView {
  if (!n) return [];
  const params = { ...(n.params ?? {}) };
  if (params.name) params.name = escapeMarkdown(params.name);
  if (params.at) params.at = formatLondonDateTime(new Date(params.at));
  return [{ text: tk(v.t, n.key, params), color: n.tone === 'good' ? 'Good' : 'Attention' }];
}

function personName(pathway: PathwayDefinition, r: Referral): string {
  const step = r.answers[pathway.personNameFields.step] ?? {};
  return escapeMarkdown([step[pathway.personNameFields.first], step[pathway.personNameFields.last]].filter((x) => typeof x === 'string' && x).join(' '));
}

function nameOf(v: ViewContext, aadObjectId: string): string {
  return escapeMarkdown(v.directory.person(aadObjectId)?.name ?? aadObjectId);
}

function areaName(v: ViewContext, id: string): string {
  return v.directory.area(id)?.name ?? id;
}

function ageText(v: ViewContext, from: Date): string {
  const n = daysBetween(londonDate(from), v.today);
  return n <= 0 ? v.t('age.today') : n === 1 ? v.t('age.day') : v.t('age.days', { n });
}

export function caseScreenCard(v: ViewContext, screen: CaseScreen): Card {
  switch (screen.kind) {
    case 'queue':
      return queueCard(v, screen);
    case 'cases':
      return caseListCard(v, screen);
    case 'referral':
      return referralCard(v, screen);
    case 'case':
      return caseCard(v, screen);
    case 'form':
      return formCard(v, screen);
    case 'chronology':
      return chronologyCard(v, screen);
  }
}

function queueCard(v: ViewContext, s: Extract<CaseScreen, { kind: 'queue' }>): Card {
  return renderCard('queue', {
    title: v.t('queue.title'),
    summary:
      s.total === 0
        ? v.t('queue.none')
        : s.total > QUEUE_COUNT_CAP
          ? v.t('queue.summaryMany', { shown: s.items.length, cap: QUEUE_COUNT_CAP })
          : v.t('queue.summary', { shown: s.items.length, total: s.total }),
    items: s.items.map((r) => {
      const overdue = r.triageDueOn < v.today;
      const data = { reference: r.reference };
      // Typed here, not left to the contextual type: tsc's incremental build (npm start after an
      // edit elsewhere) widened it to string and refused to compile.
      const dueColor: QueueCard['items'][number]['dueColor'] = overdue ? 'Attention' : r.triageDueOn === v.today ? 'Warning' : 'Default';
      return {
        reference: r.reference,
        received: v.t('queue.received', { area: areaName(v, r.areaId), received: formatLondonDateTime(r.submittedAt), age: ageText(v, r.submittedAt) }),
        due: v.t(overdue ? 'queue.overdue' : 'queue.due', { due: day(r.triageDueOn) }),
        dueColor,
        openLabel: v.t('queue.open'),
        actionData: data,
        submitData: button('', 'referral.open', data).submitData,
      };
    }),
  });
}

function caseListCard(v: ViewContext, s: Extract<CaseScreen, { kind: 'cases' }>): Card {
  return renderCard('case-list', {
    title: v.t('cases.title'),
    empty: s.items.length === 0 ? v.t('cases.none') : '',
    items: s.items.map((c) => {
      const data = { reference: c.reference };
      const detail = v.t('cases.item', { kind: v.t(`case.kind.${c.kind}`), opened: formatLondonDate(c.openedAt) });
      return {
        reference: c.reference,
        person: escapeMarkdown([c.firstName, c.lastName].filter(Boolean).join(' ')),
        detail: c.nextDueOn ? `${detail} · ${v.t('cases.next', { due: day(c.nextDueOn) })}` : detail,
        openLabel: v.t('cases.open'),
        actionData: data,
        submitData: button('', 'referral.open', data).submitData,
      };
    }),
  });
}

function referralCard(v: ViewContext, s: Extract<CaseScreen, { kind: 'referral' }>): Card {
  const { referral: r, pathway, triage, case: c } = s.record;
  const ref = { reference: r.reference };
  const triageSection: SectionView[] = [];
  if (triage) {
    const form = pathway.caseForms.triage;
    const field = (id: string) => form.fields.find((f) => f.id === id)!;
    triageSection.push({
      title: v.t('view.triage.title'),
      answers: [
        { label: v.t('view.triage.outcome'), value: displayValue(v, field('outcome'), triage.outcome) },
        ...(triage.signpostedTo ? [{ label: v.t('view.triage.signpostedTo'), value: escapeMarkdown(triage.signpostedTo) }] : []),
        { label: v.t('view.triage.rationale'), value: displayValue(v, field('rationale'), triage.rationale) },
        { label: v.t('view.triage.contactMade'), value: v.t(triage.contactMade ? 'choice.yesNo.yes' : 'choice.yesNo.no') },
        { label: v.t('view.triage.by'), value: `${nameOf(v, triage.assessedByAadObjectId)}, ${formatLondonDateTime(triage.assessedAt)}` },
      ],
    });
  }
  const overdue = r.triageDueOn < v.today;
  const notice: NoticeView = s.notice
    ? noticeView(v, s.notice)
    : !triage
      ? [{ text: v.t(overdue ? 'view.triage.overdue' : 'view.triage.due', { due: day(r.triageDueOn) }), color: overdue ? 'Attention' : 'Default' }]
      : [];
  const buttons = [
    ...(s.canTriage ? [{ ...button(v.t('view.record'), 'triage.start', ref), style: 'positive' as const }] : []),
    ...(c ? [{ ...button(v.t('view.openCase'), 'case.open', ref), style: 'default' as const }] : []),
  ];
  return renderCard('referral-view', {
    title: v.t('view.title', { reference: r.reference }),
    meta: v.t('view.meta', { area: areaName(v, r.areaId), submitted: formatLondonDateTime(r.submittedAt), status: v.t(`status.${r.status}`) }),
    notice,
    triage: triageSection,
    buttons,
    sections: answerSections(v, pathway, r.answers, 'officer'),
    audited: v.t('view.audited'),
  });
}

function fieldOf(pathway: PathwayDefinition, form: keyof PathwayDefinition['caseForms'], id: string): FieldDefinition {
  return pathway.caseForms[form].fields.find((f) => f.id === id)!;
}

/** The latest contact with the person, or what the triage said about contact. */
function contactText(v: ViewContext, pathway: PathwayDefinition, entries: readonly CaseEntry[], atTriage: boolean): string {
  const latest = inForce(entries)
    .filter((e) => e.kind === 'contact')
    .sort((a, b) => String(a.data.madeOn).localeCompare(String(b.data.madeOn)))
    .at(-1);
  if (latest) return v.t('case.contactLine', { method: displayValue(v, fieldOf(pathway, 'contact', 'method'), latest.data.method!), date: day(String(latest.data.madeOn)) });
  return v.t(atTriage ? 'case.contactAtTriage' : 'case.contactNone');
}

/** The Channel panel's latest decision, as the case card shows it. */
function panelText(v: ViewContext, pathway: PathwayDefinition, entries: readonly CaseEntry[]): string {
  const latest = inForce(entries).filter((e) => e.kind === 'panel').at(-1);
  if (!latest) return v.t('case.panelNone');
  return v.t('case.panelLine', { decision: displayValue(v, fieldOf(pathway, 'panel', 'decision'), latest.data.decision!), date: day(String(latest.data.decidedOn)) });
}

function caseCard(v: ViewContext, s: Extract<CaseScreen, { kind: 'case' }>): Card {
  const { referral: r, pathway, case: c, entries, openActions } = s.summary;
  const ref = { reference: r.reference };
  const open = c.status === 'open';
  const age = personAge(pathway, r.answers, v.today);
  const person = personName(pathway, r) + (age !== undefined ? ` (${age})` : '');

  const consent = currentConsent(entries);
  let consentText = v.t('case.consentNone');
  if (consent) {
    const status = displayValue(v, fieldOf(pathway, 'consent', 'status'), consent.data.status!);
    const date = day(String(consent.data.decidedOn));
    const who =
      consent.data.givenBy === 'parentCarer' && typeof consent.data.parentCarerName === 'string'
        ? escapeMarkdown(consent.data.parentCarerName)
        : consent.data.givenBy
          ? displayValue(v, fieldOf(pathway, 'consent', 'givenBy'), consent.data.givenBy)
          : '';
    consentText = who ? v.t('case.consentBy', { status, date, who }) : v.t('case.consentLine', { status, date });
  }

  const history = vulnerabilityHistory(entries);
  const latest = history.at(-1);
  const trend = trendOf(history);
  const previous = history.at(-2);
  const trendColor = trend === 'rising' ? 'Attention' : trend === 'falling' ? 'Good' : 'Default';

  const overdueAction = (due: string) => due < v.today;
  const actionItems = openActions.map((a) => {
    const title = a.kind === 'system' ? tk(v.t, a.title) : escapeMarkdown(a.title);
    const params = { title, owner: nameOf(v, a.ownerAadObjectId), due: day(a.dueOn) };
    const data = { ...ref, form: '', subject: a.id };
    return {
      text: v.t(overdueAction(a.dueOn) ? 'case.actionOverdue' : 'case.actionLine', params),
      color: overdueAction(a.dueOn) ? ('Attention' as const) : ('Default' as const),
      buttons: [button(v.t('case.btn.complete'), 'case.form', { ...data, form: 'actionComplete' }), button(v.t('case.btn.reassign'), 'case.form', { ...data, form: 'actionReassign' })],
    };
  });

  const active = interventions(entries, v.today).filter((i) => i.active);
  const interventionItems = active.map((i) => {
    const type = displayValue(v, fieldOf(pathway, 'intervention', 'type'), i.type);
    const provider = escapeMarkdown(i.provider);
    const text = i.endOn
      ? v.t('case.interventionLineEnd', { type, provider, start: day(i.startOn), end: day(i.endOn) })
      : v.t('case.interventionLine', { type, provider, start: day(i.startOn) });
    return {
      text,
      working: v.t('case.working', { working: displayValue(v, fieldOf(pathway, 'intervention', 'working'), i.working) }),
      buttons: open ? [button(v.t('case.btn.review'), 'case.form', { ...ref, form: 'interventionReview', subject: i.id })] : [],
    };
  });

  const form = (key: 'consent' | 'vulnerability' | 'intervention' | 'action' | 'note' | 'close' | 'panel' | 'contact' | 'transfer') =>
    button(v.t(`case.btn.${key}`), 'case.form', { ...ref, form: key });
  const pending = s.summary.pendingTransfer;
  const moveButtons = pending
    ? [button(v.t('case.btn.transferOpen'), 'approval.open', { subject: 'transfer', id: pending.id })]
    : [form('transfer')];
  const buttonRows = open
    ? [
        ...(c.ownerAadObjectId === null ? [{ buttons: [button(v.t('case.btn.take'), 'case.take', ref)] }] : []),
        { buttons: [form('consent'), form('vulnerability'), form('intervention'), form('action'), ...(c.kind === 'channel' ? [form('panel')] : [])] },
        { buttons: [form('contact'), form('note'), button(v.t('case.btn.chronology'), 'case.chronology', { ...ref, page: '0' }), button(v.t('case.btn.referral'), 'referral.view', ref)] },
        { buttons: [...moveButtons, form('close')] },
      ]
    : [{ buttons: [form('note'), button(v.t('case.btn.chronology'), 'case.chronology', { ...ref, page: '0' }), button(v.t('case.btn.referral'), 'referral.view', ref)] }];
  // Right after asking, the confirmation says it already.
  const pendingNotice: NoticeView = pending && s.notice?.key !== 'case.saved.transfer'
    ? [{ text: v.t('case.transferPending', { area: areaName(v, pending.toAreaId), date: formatLondonDate(pending.requestedAt) }), color: 'Warning' }]
    : [];

  return renderCard('case', {
    title: v.t('case.title', { reference: r.reference }),
    notice: [...noticeView(v, s.notice), ...pendingNotice],
    facts: [
      { title: v.t('case.person'), value: person },
      { title: v.t('case.area'), value: areaName(v, c.areaId) },
      { title: v.t('case.owner'), value: c.ownerAadObjectId ? nameOf(v, c.ownerAadObjectId) : v.t('case.owner.queue') },
      { title: v.t('case.kind'), value: v.t(`case.kind.${c.kind}`) },
      { title: v.t('case.status'), value: v.t(`case.status.${c.status}`) },
      { title: v.t('case.opened'), value: formatLondonDate(c.openedAt) },
      { title: v.t('case.consent'), value: consentText },
      { title: v.t('case.contact'), value: contactText(v, pathway, entries, s.summary.triage?.contactMade === true) },
      ...(c.kind === 'channel' ? [{ title: v.t('case.panel'), value: panelText(v, pathway, entries) }] : []),
    ],
    vulnerability: {
      title: v.t('case.vulnerability'),
      latest: latest
        ? v.t('case.scores', { engagement: latest.engagement, intent: latest.intent, capability: latest.capability, total: latest.total, date: day(latest.assessedOn) })
        : v.t('case.vulnerabilityNone'),
      trend: latest ? [{ text: v.t(`case.trend.${trend}`, { previous: previous?.total ?? 0, latest: latest.total }), color: trendColor }] : [],
      history: history
        .slice(-6)
        .reverse()
        .map((h) => ({ text: v.t('case.historyLine', { date: day(h.assessedOn), engagement: h.engagement, intent: h.intent, capability: h.capability, total: h.total }) })),
    },
    actions: { title: v.t('case.actions'), empty: actionItems.length === 0 ? v.t('case.actionsNone') : '', items: actionItems },
    interventions: { title: v.t('case.interventions'), empty: interventionItems.length === 0 ? v.t('case.interventionsNone') : '', items: interventionItems },
    buttonRows,
    audited: v.t('view.audited'),
  });
}

function formCard(v: ViewContext, s: FormScreen): Card {
  const { referral: r, pathway } = s.record;
  const ref = { reference: r.reference };
  const areaId = s.record.case?.areaId ?? r.areaId;
  const vf: ViewContext = { ...v, officers: s.officers, otherAreas: v.directory.areas.map((a) => a.id).filter((a) => a !== areaId) };
  const step = pathway.caseForms[s.form];
  const steps = s.corrects ? [step, pathway.caseForms.correction] : [step];
  const fields = steps.flatMap((st) => st.fields.map((f) => fieldView(vf, st, f, s.values[f.id] ?? '', s.errors[f.id])));
  const isTriage = s.form === 'triage';
  const data: Record<string, string> = isTriage ? { ...ref } : { ...ref, form: s.form };
  if (s.subjectId) data.subject = s.subjectId;
  if (s.corrects) data.corrects = s.corrects.id;
  const verb = isTriage ? 'triage.submit' : 'case.submit';
  const cancelVerb = isTriage ? 'referral.open' : 'case.open';
  const titleKey = s.corrects ? 'form.correct.title' : `form.${s.form}.title`;
  const introKey = s.corrects ? 'form.correct.intro' : `form.${s.form}.intro`;
  return renderCard('case-form', {
    t: { save: v.t('form.save'), cancel: v.t('form.cancel') },
    title: tk(v.t, titleKey, { reference: r.reference }),
    context: v.t('form.context', { reference: r.reference, person: personName(pathway, r) }),
    intro: isMessageKey(introKey) ? v.t(introKey) : '',
    errorSummary: optionalText(Object.keys(s.errors).length > 0 ? v.t('wizard.errorSummary') : ''),
    fields,
    verb,
    actionData: data,
    submitData: button('', verb, data).submitData,
    cancelVerb,
    cancelData: ref,
    cancelSubmitData: button('', cancelVerb, ref).submitData,
  });
}

/** One line per answered field of an entry, as the form labels it. */
function entryLines(v: ViewContext, pathway: PathwayDefinition, e: CaseEntry): Array<{ text: string }> {
  const form = e.kind === 'closed' ? 'close' : e.kind;
  if (!(form in pathway.caseForms)) return [];
  const step = pathway.caseForms[form as keyof PathwayDefinition['caseForms']];
  const lines: Array<{ text: string }> = [];
  for (const f of step.fields) {
    const value = e.data[f.id];
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    const label = f.dynamicChoices === 'officers' ? nameOf(v, String(value)) : displayValue(v, f, value);
    lines.push({ text: `**${tk(v.t, `field.${step.id}.${f.id}.label`)}:** ${label}` });
  }
  return lines;
}

function entryHeading(v: ViewContext, pathway: PathwayDefinition, e: CaseEntry): string {
  const d: StepAnswers = e.data;
  const choice = (form: keyof PathwayDefinition['caseForms'], field: string, value: unknown) =>
    value === undefined ? '' : displayValue(v, fieldOf(pathway, form, field), value as string);
  switch (e.kind) {
    case 'opened':
      return v.t('entry.opened', { outcome: choice('triage', 'outcome', d.outcome) });
    case 'consent':
      return v.t('entry.consent', { status: choice('consent', 'status', d.status) });
    case 'vulnerability':
      return v.t('entry.vulnerability', { engagement: String(d.engagement), intent: String(d.intent), capability: String(d.capability) });
    case 'intervention':
      return v.t('entry.intervention', { type: choice('intervention', 'type', d.type), provider: escapeMarkdown(String(d.provider)) });
    case 'interventionReview':
      return v.t('entry.interventionReview', { working: choice('interventionReview', 'working', d.working) });
    case 'action':
      return v.t('entry.action', { title: escapeMarkdown(String(d.title)), owner: nameOf(v, String(d.owner)), due: day(String(d.dueOn)) });
    case 'actionComplete':
      return v.t('entry.actionComplete');
    case 'actionReassign':
      return v.t('entry.actionReassign', { from: nameOf(v, String(d.from)), to: nameOf(v, String(d.owner)) });
    case 'note':
      return v.t('entry.note');
    case 'closed':
      return v.t('entry.closed', { reason: choice('close', 'reason', d.reason) });
    case 'panel':
      return v.t('entry.panel', { decision: choice('panel', 'decision', d.decision) });
    case 'contact':
      return v.t('entry.contact', { method: choice('contact', 'method', d.method), date: day(String(d.madeOn)) });
    case 'transfer':
      return v.t('entry.transfer', { area: areaName(v, String(d.toArea)) });
    case 'transferAccepted':
      return v.t('entry.transferAccepted', { from: areaName(v, String(d.fromArea)), to: areaName(v, String(d.toArea)) });
    case 'transferDeclined':
      return v.t('entry.transferDeclined');
    case 'transferWithdrawn':
      return v.t('entry.transferWithdrawn');
    case 'taken':
      return v.t('entry.taken');
  }
}

function chronologyCard(v: ViewContext, s: Extract<CaseScreen, { kind: 'chronology' }>): Card {
  const { referral: r, pathway } = s.record;
  const ref = { reference: r.reference };
  const open = s.record.case.status === 'open';
  const nav: ButtonView[] = [
    ...(s.page > 0 ? [button(v.t('chronology.newer'), 'case.chronology', { ...ref, page: String(s.page - 1) })] : []),
    ...(s.page + 1 < s.pages ? [button(v.t('chronology.older'), 'case.chronology', { ...ref, page: String(s.page + 1) })] : []),
    button(v.t('case.btn.back'), 'case.open', ref),
  ];
  return renderCard('chronology', {
    title: v.t('chronology.title', { reference: r.reference }),
    pageLine: v.t('chronology.page', { page: s.page + 1, pages: s.pages }),
    entries: s.entries.map((e) => {
      const flags: Array<{ text: string }> = [];
      if (s.corrected.has(e.id)) flags.push({ text: v.t('chronology.corrected') });
      if (e.correctsEntryId) {
        const at = s.correctedAt.get(e.correctsEntryId);
        flags.push({ text: v.t('chronology.corrects', { at: at ? formatLondonDateTime(at) : '', reason: escapeMarkdown(String(e.data.correctionReason ?? '')) }) });
      }
      const correctable = open || e.kind === 'note';
      return {
        heading: entryHeading(v, pathway, e),
        by: v.t('chronology.by', { at: formatLondonDateTime(e.at), who: nameOf(v, e.authorAadObjectId) }),
        lines: entryLines(v, pathway, e),
        flags,
        buttons:
          correctable && correctableKinds.includes(e.kind) && !s.corrected.has(e.id)
            ? [button(v.t('chronology.correct'), 'case.correct', { ...ref, entry: e.id })]
            : [],
      };
    }),
    buttons: nav,
  });
}
