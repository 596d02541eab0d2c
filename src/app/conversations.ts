/** Remembering where to reach a user proactively, and what to do when they cannot be reached. */
import type { AppDeps } from './context.js';
import { isCaseWorker, trainedCaseWorkers } from '../domain/permissions.js';
import { londonDate } from '../domain/time.js';
import { markConversationUnreachable, saveConversationRef, type StoredConversationRef } from '../db/repositories/conversation-refs.js';
import { enqueueMessages } from '../db/repositories/outbox.js';

export async function rememberConversation(deps: AppDeps, aadObjectId: string, reference: StoredConversationRef): Promise<void> {
  await saveConversationRef(deps.db, aadObjectId, reference, deps.now());
}

export type UnreachableReason = 'blocked' | 'notInstalled';

/**
 * A message could not be delivered to this person: Teams answered 403/404
 * (the app was blocked or removed), or they never installed the app. Later
 * messages to them are not attempted until they talk to the bot again, and
 * when they are an officer or supervisor the trained supervisors of their
 * areas are told (once per block, once for never having installed), so
 * case work does not silently stop.
 */
export async function recipientUnreachable(deps: AppDeps, aadObjectId: string, reason: UnreachableReason, failedKind: string): Promise<void> {
  // "Never installed" is reported once (the outbox key says so); this instance need not ask again.
  const reported = notInstalledReported.get(deps.db) ?? new Set<string>();
  notInstalledReported.set(deps.db, reported);
  if (reason === 'notInstalled' && reported.has(aadObjectId)) return;
  const now = deps.now();
  // Once per episode: a block is reported when first seen (it ends when they talk to the bot again);
  // "never installed" once, until they install.
  if (reason === 'blocked' && !(await markConversationUnreachable(deps.db, aadObjectId, now))) return;
  if (failedKind === 'user.unreachable') return; // never a chain of notices about notices
  const person = deps.directory.actor(aadObjectId, '');
  if (!person.listed || !isCaseWorker(person)) return;
  const today = londonDate(now);
  const supervisors = new Set(person.areas.flatMap((area) => trainedCaseWorkers(deps.directory, area, today, { supervisorsOnly: true })));
  supervisors.delete(aadObjectId);
  await enqueueMessages(
    deps.db,
    [...supervisors].map((s) => ({
      key: `user.unreachable:${aadObjectId}:${reason === 'blocked' ? now.toISOString() : 'notInstalled'}:${s}`,
      kind: 'user.unreachable',
      recipientAadObjectId: s,
      payload: { aadObjectId, reason },
    })),
    now,
  );
  if (supervisors.size > 0) deps.messagesQueued();
  if (reason === 'notInstalled') reported.add(aadObjectId);
}

/** People this instance has already reported as never having installed the app (per database). */
const notInstalledReported = new WeakMap<object, Set<string>>();
