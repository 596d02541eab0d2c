/**
 * The teams-ai Application: commands and card verbs in, use-cases called
 * with the actor, cards out. Card data is untrusted and parsed here (zod);
 * authorisation is the use-cases' job. Only src/bot and src/http know Teams.
 */
import { ActivityTypes, TurnContext, type Activity, type ConversationReference, type Storage } from 'botbuilder';
import { Application, TurnState, type AdaptiveCard } from '@microsoft/teams-ai';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { AppDeps } from '../app/context.js';
import type { Actor } from '../domain/directory.js';
import { DomainError, isDomainError } from '../domain/errors.js';
import { londonDate } from '../domain/time.js';
import { resolveLocale, translator } from '../i18n/catalogue.js';
import { pathways } from '../forms/prevent.js';
import * as wizard from '../app/wizard.js';
import { listMyReferrals } from '../app/referrals.js';
import * as cases from '../app/cases.js';
import { caseScreenCard } from './case-views.js';
import * as reminders from '../app/reminders.js';
import { actionIdsOf, dueCard, notificationCard, settingsCard } from './notifications.js';
import { rememberConversation } from '../app/conversations.js';
import { parseCommand } from './commands.js';
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
      if (isDomainError(err)) return errorCard(v, err.code);
      turnLog(activity).error({ err }, 'turn failed');
      return errorCard(v, 'generic');
    }
  };

  const pathwayOf = (d: { pathway: string }) => pathways[d.pathway];

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
          return caseScreenCard(v, await cases.openRecord(deps, actor, cmd.reference));
        case 'queue':
          return caseScreenCard(v, await cases.listQueue(deps, actor));
        case 'cases':
          return caseScreenCard(v, await cases.listMyCases(deps, actor));
        case 'due':
          return dueCard(v, await reminders.listDue(deps, actor));
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
      };
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
    return (await runAction(context.activity, action?.verb, action?.data)) as unknown as AdaptiveCard;
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

/** The proactive transport for the outbox: renders the message's card and sends it into the stored conversation. */
export function proactiveSender(o: { adapter: SafeguardAdapter; botAppId?: string | undefined; deps: AppDeps }): SendProactive {
  return async (reference, message) => {
    const v: ViewContext = {
      t: translator(resolveLocale(typeof reference.locale === 'string' ? reference.locale : undefined)),
      directory: o.deps.directory,
      today: londonDate(o.deps.now()),
    };
    const ids = actionIdsOf(message.kind, message.payload);
    const actions = ids.length > 0 ? await reminders.actionsForReminders(o.deps, ids) : new Map();
    let card: Card | undefined;
    try {
      card = notificationCard(v, message.kind, message.payload, actions);
    } catch (err) {
      // A kind this version cannot render: fail it visibly rather than send nonsense.
      throw new DeliveryError((err as Error).message, 400);
    }
    if (!card) return 'skipped';
    // The adapter hands errors inside the callback to onTurnError (which only logs), so the
    // callback keeps its own failure and we rethrow it: the outbox must see a 403 or a 429.
    let failure: unknown;
    try {
      await o.adapter.continueConversationAsync(o.botAppId ?? '', reference as Partial<ConversationReference>, async (ctx) => {
        try {
          await ctx.sendActivity({ type: ActivityTypes.Message, attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] });
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
    return 'sent';
  };
}
