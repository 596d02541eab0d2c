/** Where each user's 1:1 chat with the bot is, for proactive messages. */
import { inArray, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { conversationRefs } from '../schema.js';

/** A stored conversation reference: opaque JSON to everything below src/bot. */
export type StoredConversationRef = Record<string, unknown>;

/** Stores the reference; writes only when it changed, so calling it every turn is cheap. */
export async function saveConversationRef(db: DatabaseOrTransaction, aadObjectId: string, reference: StoredConversationRef, now: Date): Promise<void> {
  await db
    .insert(conversationRefs)
    .values({ aadObjectId, reference, updatedAt: now })
    .onConflictDoUpdate({
      target: conversationRefs.aadObjectId,
      set: { reference, updatedAt: now },
      setWhere: sql`${conversationRefs.reference} is distinct from excluded.reference`,
    });
}

export async function getConversationRefs(db: DatabaseOrTransaction, aadObjectIds: readonly string[]): Promise<Map<string, StoredConversationRef>> {
  if (aadObjectIds.length === 0) return new Map();
  const rows = await db.select().from(conversationRefs).where(inArray(conversationRefs.aadObjectId, [...aadObjectIds]));
  return new Map(rows.map((r) => [r.aadObjectId, r.reference as StoredConversationRef]));
}
