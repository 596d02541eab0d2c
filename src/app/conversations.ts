/** Remembering where to reach a user proactively (on install, and on each chat so it stays current). */
import type { AppDeps } from './context.js';
import { saveConversationRef, type StoredConversationRef } from '../db/repositories/conversation-refs.js';

export async function rememberConversation(deps: AppDeps, aadObjectId: string, reference: StoredConversationRef): Promise<void> {
  await saveConversationRef(deps.db, aadObjectId, reference, deps.now());
}
