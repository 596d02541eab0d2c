/**
 * The teams-ai Application: commands and card verbs in, use-cases called
 * with the actor, cards out. Card data is untrusted and parsed here (zod);
 * authorisation is the use-cases' job. Only src/bot and src/http know Teams.
 */
import { ActivityTypes, TurnContext, type Activity, type ConversationReference, type Storage } from 'botbuilder';
// teams-ai's modules one by one, not its index: the index also loads the AI planners, model
// clients and tokenizers, which this bot never uses (~0.3 s of start-up and ~25 MB).
import { Application } from '@microsoft/teams-ai/lib/Application.js';
import { TurnState } from '@microsoft/teams-ai/lib/TurnState.js';
import type { AdaptiveCard } from '@microsoft/teams-ai/lib/AdaptiveCards.js';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { AppDeps } from '../app/context.js';
import type { Actor, Directory } from '../domain/directory.js';
import { DomainError, isDomainError } from '../domain/errors.js';
import { formatLondonDateTime, londonDate } from '../domain/time.js';
import { approvalCardKinds } from '../domain/reminders.js';
import type { Notice } from '../app/cases.js';
import { resolveLocale, translator } from '../i18n/catalogue.js';
import { pathways } from '../forms/prevent.js';
import * as wizard from '../app/wizard.js';
import { listMyReferrals } from '../app/referrals.js';
import * as cases from '../app/cases.js';
import { caseScreenCard } from './case-views.js';
import * as reminders from '../app/reminders.js';
import { actionIdsOf, dueCard, notificationCard, settingsCard } from './notifications.js';
import { rememberConversation } from '../app/conversations.js';
import * as approvals from '../app/approvals.js';
import { approvalScreenCard } from './approval-views.js';
import * as retention from '../app/retention.js';
import { retentionScreenCard } from './retention-views.js';
import { parseCommand } from './commands.js';
import * as statistics from '../app/statistics.js';
import { statisticsCard } from './statistics-view.js';
import type { DownloadLinks } from '../http/download-links.js';
import { parseReference } from '../domain/referral.js';
import type { SafeguardAdapter } from './adapter.js';
import {
  draftsCard,
  errorCard,
  helpCard,
  myReferralsCard,
  welcomeCard,
  whoamiCard,
  wizardCard,
  type ViewContext,
} from './views.js';
import { DeliveryError, type SendProactive } from '../notify/deliverer.js';
import type { StoredConversationRef } from '../db/repositories/conversation-refs.js';

type Card = Record<string, unknown>;

const id = z.string().uuid();
const stepId = z.string().regex(/^[a-zA-Z]{1,40}$/);
/** A referral reference as the card sent it; upper-cased and checked against the format. */
const reference = z
  .string()
  .max(20)
  .transform((r) => r.toUpperCase())
  .refine((r) => parseReference(r) === r);
/** Inputs ride along with our keys; cap their number and size before anything reads them. */
const inputs = z.record(z.union([z.string().max(20_000), z.number(), z.boolean(), z.null()])).refine((r) => Object.keys(r).length <= 100, 'too many fields');

const actionSchemas = {
  'wizard.next': z.object({ draftId: id, step: stepId, fromReview: z.enum(['1', '']).optional() }).passthrough(),
  'wizard.back': z.object({ draftId: id, step: stepId, fromReview: z.enum(['1', '']).optional() }).passthrough(),
  'wizard.save': z.object({ draftId: id, step: stepId, fromReview: z.enum(['1', '']).optional() }).passthrough(),
  'wizard.edit': z.object({ draftId: id, step: stepId }).passthrough(),
  'wizard.resume': z.object({ draftId: id }).passthrough(),
  'wizard.start': z.object({}).passthrough(),
  'wizard.submit': z.object({ draftId: id }).passthrough(),
  'referral.open': z.object({ reference }).passthrough(),
  'referral.view': z.object({ reference }).passthrough(),
  'triage.start': z.object({ reference }).passthrough(),
  'triage.submit': z.object({ reference }).passthrough(),
  'case.open': z.object({ reference }).passthrough(),
  'case.form': z.object({ reference, form: z.string().refine(cases.isCaseForm), subject: id.optional() }).passthrough(),
  'case.submit': z.object({ reference, form: z.string().refine(cases.isCaseForm), subject: id.optional(), corrects: id.optional() }).passthrough(),
  'case.correct': z.object({ reference, entry: id }).passthrough(),
  'case.chronology': z.object({ reference, page: z.string().regex(/^\d{1,4}$/) }).passthrough(),
  'case.take': z.object({ reference }).passthrough(),
  'transfer.accept': z.object({ id }).passthrough(),
  'transfer.decline': z.object({ id }).passthrough(),
  'transfer.withdraw': z.object({ id }).passthrough(),
  'access.start': z.object({}).passthrough(),
  'access.find': z.object({}).passthrough(),
  'access.submit': z.object({ record: id }).passthrough(),
  'access.grant': z.object({ id }).passthrough(),
  'access.decline': z.object({ id }).passthrough(),
  'access.withdraw': z.object({ id }).passthrough(),
  'access.view': z.object({ id }).passthrough(),
  'approval.open': z.object({ subject: z.enum(['transfer', 'access', 'deletion']), id }).passthrough(),
  'approval.refresh': z.object({ subject: z.enum(['transfer', 'access', 'deletion']), id }).passthrough(),
  'retention.open': z.object({ reference }).passthrough(),
  'retention.form': z.object({ reference, form: z.enum(['retain', 'proposeDeletion']) }).passthrough(),
  'retention.retain': z.object({ reference }).passthrough(),
  'retention.propose': z.object({ reference }).passthrough(),
  'deletion.approve': z.object({ id }).passthrough(),
  'deletion.decline': z.object({ id }).passthrough(),
  'deletion.withdraw': z.object({ id }).passthrough(),
  'retention.export': z.object({ reference }).passthrough(),
  'approvals.list': z.object({}).passthrough(),
  'stats.csv': z.object({ year: z.string().regex(/^\d{4}$/) }).passthrough(),
  'due.list': z.object({}).passthrough(),
  'settings.save': z.object({ reminderMode: z.enum(['immediate', 'digest']) }).passthrough(),
} as const;
type Verb = keyof typeof actionSchemas;
const isVerb = (v: unknown): v is Verb => typeof v === 'string' && Object.prototype.hasOwnProperty.call(actionSchemas, v);

export interface BotOptions {
  readonly deps: AppDeps;
  readonly adapter: SafeguardAdapter;
  readonly storage: Storage;
  readonly botAppId?: string | undefined;
  /** Hands out the statistics CSV's download links (src/http/download-links.ts). */
  readonly csvLinks: Pick<DownloadLinks, 'statisticsCsv' | 'recordExport'>;
}

/** Strips a conversation reference to what a proactive send needs (no message id, no display names). */
function storableReference(activity: Activity): StoredConversationRef {
  const r = TurnContext.getConversationReference(activity);
  return {
    channelId: r.channelId,
    serviceUrl: r.serviceUrl,
    locale: r.locale,
    conversation: { id: r.conversation?.id, conversationType: r.conversation?.conversationType, tenantId: r.conversation?.tenantId, isGroup: r.conversation?.isGroup },
    bot: { id: r.bot?.id, name: r.bot?.name },
    user: { id: r.user?.id, aadObjectId: r.user?.aadObjectId },
  };
}

/** The Teams user id of the person a turn is from: approval cards refresh for them. */
function userIdsOf(activity: Activity): string[] {
  const id = activity.from?.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? [id] : [];
}

export function createBot(o: BotOptions): Application<TurnState> {
  const { deps } = o;
  const app = new Application<TurnState>({
    adapter: o.adapter,
    botAppId: o.botAppId,
    storage: o.storage,
    // Our replies are quick; a typing indicator would cost an outbound call per message.
    startTypingTimer: false,
    removeRecipientMention: true,
  });

  const viewFor = (activity: Activity): ViewContext => ({
    t: translator(resolveLocale(activity.locale)),
    directory: deps.directory,
    today: londonDate(deps.now()),
  });

  const actorOf = (activity: Activity): Actor => {
    const aad = activity.from?.aadObjectId;
    if (typeof aad !== 'string' || aad.length === 0 || aad.length > 100) throw new DomainError('unidentified');
    return deps.directory.actor(aad, String(activity.from?.name ?? '').slice(0, 120));
  };

  const turnLog = (activity: Activity): Logger => deps.log.child({ activityId: activity.id, type: activity.type, channel: activity.channelId });

  /** Runs a handler; a DomainError becomes its card, anything else a generic apology (logged with the turn id). */
  const guarded = async (activity: Activity, fn: (v: ViewContext) => Promise<Card>): Promise<Card> => {
    const v = viewFor(activity);
    try {
      return await fn(v);
    } catch (err) {
      if (isDomainError(err)) return errorCard(v, err.code, err.params);
      turnLog(activity).error({ err }, 'turn failed');
      return errorCard(v, 'generic');
    }
  };

  const pathwayOf = (d: { pathway: string }) => pathways[d.pathway];

  /**
   * `case <REF>`: the record for its area's officers; for anyone else, the
   * record as their access grant shows it, if one runs (the refusal of the
   * ordinary view is audited first, then the view under the grant).
   */
  const openRecordCard = async (v: ViewContext, activity: Activity, actor: Actor, reference: string): Promise<Card> => {
    try {
      return caseScreenCard(v, await cases.openRecord(deps, actor, reference));
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'forbidden') throw err;
      const granted = await approvals.openUnderGrant(deps, actor, reference);
      if (!granted) throw err;
      return approvalScreenCard(v, granted, userIdsOf(activity));
    }
  };

  const runCommand = (activity: Activity): Promise<Card> =>
    guarded(activity, async (v) => {
      const actor = actorOf(activity);
      const cmd = parseCommand(activity.text);
      switch (cmd.name) {
        case 'help':
          return helpCard(v, actor);
        case 'whoami':
          return whoamiCard(v, actor);
        case 'refer': {
          // Unfinished drafts are offered first, so abandoned ones do not pile up unseen.
          const open = await wizard.listDrafts(deps, actor);
          if (open.length > 0) return draftsCard(v, open, pathwayOf, { offerNew: true });
          return wizardCard(v, await wizard.startReferral(deps, actor));
        }
        case 'drafts':
          return draftsCard(v, await wizard.listDrafts(deps, actor), pathwayOf);
        case 'myReferrals':
          return myReferralsCard(v, await listMyReferrals(deps, actor));
        case 'case':
          return openRecordCard(v, activity, actor, cmd.reference);
        case 'approvals':
          return approvalScreenCard(v, await approvals.listApprovals(deps, actor), userIdsOf(activity));
        case 'access':
          return approvalScreenCard(v, await approvals.startAccessRequest(deps, actor), userIdsOf(activity));
        case 'reviews':
          return retentionScreenCard(v, await retention.listReviews(deps, actor), userIdsOf(activity));
        case 'queue':
          return caseScreenCard(v, await cases.listQueue(deps, actor));
        case 'cases':
          return caseScreenCard(v, await cases.listMyCases(deps, actor));
        case 'due':
          return dueCard(v, await reminders.listDue(deps, actor));
        case 'stats':
          return statisticsCard(v, await statistics.viewStatistics(deps, actor, cmd.year), { log: turnLog(activity) });
        case 'settings':
          return settingsCard(v, await reminders.getReminderMode(deps, actor.aadObjectId));
        case 'unknown':
          return helpCard(v, actor, cmd.text);
      }
    });

  const runAction = (activity: Activity, verb: unknown, rawData: unknown): Promise<Card> =>
    guarded(activity, async (v) => {
      const actor = actorOf(activity);
      if (!isVerb(verb)) return errorCard(v, 'unknownAction');
      const parsedInputs = inputs.safeParse(rawData ?? {});
      if (!parsedInputs.success) throw new DomainError('invalid_input');
      const parsed = actionSchemas[verb].safeParse(parsedInputs.data);
      if (!parsed.success) throw new DomainError('invalid_input');
      const data = parsed.data as Record<string, unknown> & {
        draftId?: string;
        step?: string;
        fromReview?: string;
        reference?: string;
        form?: cases.CaseForm;
        subject?: string;
        corrects?: string;
        entry?: string;
        page?: string;
        id?: string;
        record?: string;
      };
      const approval = (screen: approvals.ApprovalScreen) => approvalScreenCard(v, screen, userIdsOf(activity));
      const retentionCard = (screen: retention.RetentionScreen) => retentionScreenCard(v, screen, userIdsOf(activity));
      switch (verb) {
        case 'wizard.next':
        case 'wizard.back':
        case 'wizard.save':
          return wizardCard(
            v,
            await wizard.answerStep(deps, actor, {
              draftId: data.draftId!,
              stepId: data.step!,
              intent: verb === 'wizard.next' ? 'next' : verb === 'wizard.back' ? 'back' : 'save',
              raw: data,
              fromReview: data.fromReview === '1',
            }),
          );
        case 'wizard.edit':
          return wizardCard(v, await wizard.editStep(deps, actor, data.draftId!, data.step!));
        case 'wizard.resume':
          return wizardCard(v, await wizard.resumeDraft(deps, actor, data.draftId!));
        case 'wizard.start':
          return wizardCard(v, await wizard.startReferral(deps, actor));
        case 'wizard.submit':
          return wizardCard(v, await wizard.submitReferral(deps, actor, { draftId: data.draftId!, raw: data }));
        case 'referral.open':
          return caseScreenCard(v, await cases.openRecord(deps, actor, data.reference!));
        case 'referral.view':
          return caseScreenCard(v, await cases.openReferral(deps, actor, data.reference!));
        case 'triage.start':
          return caseScreenCard(v, await cases.startTriage(deps, actor, data.reference!));
        case 'triage.submit':
          return caseScreenCard(v, await cases.recordTriage(deps, actor, data.reference!, data));
        case 'case.open':
          return caseScreenCard(v, await cases.openCase(deps, actor, data.reference!));
        case 'case.form':
          return caseScreenCard(v, await cases.showCaseForm(deps, actor, data.reference!, data.form!, data.subject));
        case 'case.submit':
          return caseScreenCard(
            v,
            await cases.submitCaseForm(deps, actor, data.reference!, { form: data.form!, subjectId: data.subject, correctsEntryId: data.corrects, raw: data }),
          );
        case 'case.correct':
          return caseScreenCard(v, await cases.showCorrection(deps, actor, data.reference!, data.entry!));
        case 'case.chronology':
          return caseScreenCard(v, await cases.chronology(deps, actor, data.reference!, Number(data.page)));
        case 'case.take':
          return caseScreenCard(v, await cases.takeFromQueue(deps, actor, data.reference!));
        case 'transfer.accept':
        case 'transfer.decline':
          return approval(await approvals.decideTransfer(deps, actor, data.id!, verb === 'transfer.accept' ? 'accept' : 'decline', data));
        case 'transfer.withdraw':
          return approval(await approvals.withdrawTransfer(deps, actor, data.id!));
        case 'access.start':
          return approval(await approvals.startAccessRequest(deps, actor));
        case 'access.find':
          return approval(await approvals.findRecordForAccess(deps, actor, data));
        case 'access.submit':
          return approval(await approvals.submitAccessRequest(deps, actor, data.record!, data));
        case 'access.grant':
        case 'access.decline':
          return approval(await approvals.decideAccess(deps, actor, data.id!, verb === 'access.grant' ? 'grant' : 'decline', data));
        case 'access.withdraw':
          return approval(await approvals.withdrawAccess(deps, actor, data.id!));
        case 'access.view':
          return approval(await approvals.viewUnderGrant(deps, actor, data.id!));
        case 'approval.open':
        case 'approval.refresh':
          if (data.subject === 'deletion') return retentionCard(await retention.deletionCard(deps, actor, data.id!));
          return approval(
            data.subject === 'transfer' ? await approvals.transferCard(deps, actor, data.id!) : await approvals.accessCard(deps, actor, data.id!),
          );
        case 'retention.open':
          return retentionCard(await retention.openReview(deps, actor, data.reference!));
        case 'retention.form':
          return retentionCard(await retention.openReview(deps, actor, data.reference!, (data.form as string) === 'retain' ? 'retain' : 'proposeDeletion'));
        case 'retention.retain':
          return retentionCard(await retention.retain(deps, actor, data.reference!, data));
        case 'retention.propose':
          return retentionCard(await retention.proposeDeletion(deps, actor, data.reference!, data));
        case 'deletion.approve':
        case 'deletion.decline':
          return retentionCard(await retention.decideDeletion(deps, actor, data.id!, verb === 'deletion.approve' ? 'approve' : 'decline', data));
        case 'deletion.withdraw':
          return retentionCard(await retention.withdrawDeletion(deps, actor, data.id!));
        case 'retention.export':
          return retentionCard(
            await retention.requestExport(deps, actor, data.reference!, (g) => o.csvLinks.recordExport({ ...g, locale: resolveLocale(activity.locale) })),
          );
        case 'approvals.list':
          return approval(await approvals.listApprovals(deps, actor));
        case 'stats.csv': {
          const report = await statistics.requestStatisticsCsv(deps, actor, String(data.year));
          const link = o.csvLinks.statisticsCsv({ pathway: report.pathway, year: report.year, locale: resolveLocale(activity.locale) });
          const validMinutes = Math.max(1, Math.round((link.expiresAt.getTime() - deps.now().getTime()) / 60_000));
          return statisticsCard(v, report, { log: turnLog(activity), link: { url: link.url, validMinutes } });
        }
        case 'due.list':
          return dueCard(v, await reminders.listDue(deps, actor));
        case 'settings.save': {
          const mode = (data as { reminderMode: 'immediate' | 'digest' }).reminderMode;
          await reminders.setReminderMode(deps, actor.aadObjectId, mode);
          return settingsCard(v, mode, true);
        }
      }
    });

  const remember = async (activity: Activity) => {
    const aad = activity.from?.aadObjectId;
    if (typeof aad === 'string' && aad.length > 0 && aad.length <= 100) await rememberConversation(deps, aad, storableReference(activity));
  };

  // Universal Actions: every card verb arrives here, answered in the HTTP response.
  app.adaptiveCards.actionExecute(/.*/, async (context) => {
    const action = (context.activity.value as { action?: { verb?: unknown; data?: unknown } } | undefined)?.action;
    const card = await runAction(context.activity, action?.verb, action?.data);
    // Answered here, not by teams-ai: for a card with `refresh` it would first PUT the card over
    // the pressed message, outside the outbox's rate limits, and again on every automatic refresh
    // (each PUT prompting another). The pressed copy takes this response; the other delivered
    // copies are updated through the outbox.
    await context.sendActivity({
      type: ActivityTypes.InvokeResponse,
      value: { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card } },
    });
    return card as unknown as AdaptiveCard;
  });

  app.activity(ActivityTypes.Message, async (context) => {
    const activity = context.activity;
    await remember(activity);
    const value = activity.value as { verb?: unknown; command?: unknown } | undefined;
    let card: Card;
    if (value && typeof value === 'object' && 'verb' in value) {
      // Action.Submit fallback from clients without Universal Actions: same verbs, answered with a new card.
      card = await runAction(activity, value.verb, value);
    } else if (value && typeof value === 'object' && typeof value.command === 'string') {
      // A command button (welcome, help, acknowledgement): the same as typing the command.
      card = await runCommand({ ...activity, text: value.command.slice(0, 100) } as Activity);
    } else {
      card = await runCommand(activity);
    }
    await context.sendActivity({ type: ActivityTypes.Message, attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] });
  });

  // Installed, or the chat opened for the first time: keep the reference and say hello.
  app.conversationUpdate('membersAdded', async (context) => {
    const a = context.activity;
    if (!a.membersAdded?.some((m) => m.id === a.recipient?.id)) return;
    await remember(a);
    const card = welcomeCard(viewFor(a));
    await context.sendActivity({ type: ActivityTypes.Message, attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] });
  });

  app.activity(ActivityTypes.InstallationUpdate, async (context) => {
    if (context.activity.action === 'add' || context.activity.action === 'add-upgrade') await remember(context.activity);
  });

  app.error(async (context, err) => {
    turnLog(context.activity).error({ err }, 'unhandled turn error');
  });

  return app;
}

/** Notices that say why an approval card arrived again (escalation, expiry soon). */
function approvalNotice(directory: Directory, kind: string, payload: Record<string, unknown>): Notice | undefined {
  if (kind === 'transfer.escalated') {
    const area = (id: unknown) => (typeof id === 'string' ? (directory.area(id)?.name ?? id) : '');
    return { key: 'notice.transfer.escalated', params: { reference: String(payload.reference ?? ''), from: area(payload.fromAreaId), to: area(payload.toAreaId) }, tone: 'attention' };
  }
  if (kind === 'access.expiring' && typeof payload.expiresAt === 'string') return { key: 'access.expiring', params: { until: formatLondonDateTime(new Date(payload.expiresAt)) }, tone: 'attention' };
  return undefined;
}

/** The proactive transport for the outbox: renders the message's card and sends it into the stored conversation. */
export function proactiveSender(o: { adapter: SafeguardAdapter; botAppId?: string | undefined; deps: AppDeps }): SendProactive {
  return async (reference, message) => {
    const v: ViewContext = {
      t: translator(resolveLocale(typeof reference.locale === 'string' ? reference.locale : undefined)),
      directory: o.deps.directory,
      today: londonDate(o.deps.now()),
    };
    const userId = (reference.user as { id?: unknown } | undefined)?.id;
    const userIds = typeof userId === 'string' ? [userId] : [];
    let card: Card | undefined;
    let replaces: string | undefined;
    try {
      if (message.kind === 'approval.update') {
        // The original approval card, brought up to date in place once it has been delivered.
        const original = await approvals.originalMessage(o.deps, String(message.payload.originalId ?? ''));
        if (!original) return 'skipped';
        if (original.status === 'pending' || original.status === 'sending') throw new DeliveryError('the card to update is not delivered yet', 503);
        if (original.status !== 'sent' || !original.sentActivityId) return 'skipped';
        replaces = original.sentActivityId;
        card = await approvalCard(o.deps, v, original.kind, original.payload, message.recipientAadObjectId, userIds);
      } else if ((approvalCardKinds as readonly string[]).includes(message.kind)) {
        card = await approvalCard(o.deps, v, message.kind, message.payload, message.recipientAadObjectId, userIds);
      } else {
        const ids = actionIdsOf(message.kind, message.payload);
        const actions = ids.length > 0 ? await reminders.actionsForReminders(o.deps, ids) : new Map();
        card = notificationCard(v, message.kind, message.payload, actions);
      }
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      // A kind this version cannot render, or a subject that is gone: fail it visibly rather than send nonsense.
      throw new DeliveryError((err as Error).message, 400);
    }
    if (!card) return 'skipped';
    // The adapter hands errors inside the callback to onTurnError (which only logs), so the
    // callback keeps its own failure and we rethrow it: the outbox must see a 403 or a 429.
    let failure: unknown;
    let activityId: string | undefined;
    try {
      await o.adapter.continueConversationAsync(o.botAppId ?? '', reference as Partial<ConversationReference>, async (ctx) => {
        try {
          const activity = { type: ActivityTypes.Message, attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] };
          if (replaces) await ctx.updateActivity({ ...activity, id: replaces });
          else activityId = (await ctx.sendActivity(activity))?.id;
        } catch (err) {
          failure = err;
        }
      });
      if (failure !== undefined) throw failure;
    } catch (err) {
      const e = err as { statusCode?: number; response?: { headers?: { get?: (n: string) => string | undefined } } };
      const retryAfter = Number(e.response?.headers?.get?.('retry-after'));
      throw new DeliveryError((err as Error).message, e.statusCode, Number.isFinite(retryAfter) ? retryAfter : undefined);
    }
    return activityId ? { activityId } : 'sent';
  };
}

async function approvalCard(deps: AppDeps, v: ViewContext, kind: string, payload: Record<string, unknown>, recipient: string, userIds: readonly string[]): Promise<Card | undefined> {
  let screen: approvals.ApprovalScreen | undefined;
  try {
    if (kind.startsWith('deletion.')) {
      const deletion = await retention.deletionCardFor(deps, payload, recipient);
      return deletion ? retentionScreenCard(v, deletion, userIds) : undefined;
    }
    screen = await approvals.approvalCardFor(deps, kind, payload, recipient);
  } catch (err) {
    // The recipient may no longer see it (moved area, training lapsed): nothing to send them.
    if (isDomainError(err) && (err.code === 'forbidden' || err.code === 'not_found')) return undefined;
    throw err;
  }
  if (!screen) return undefined;
  const notice = approvalNotice(deps.directory, kind, payload);
  return approvalScreenCard(v, notice && (screen.kind === 'transfer' || screen.kind === 'access') ? { ...screen, notice } : screen, userIds);
}
