/** Where each user's 1:1 chat with the bot is, for proactive messages. */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { conversationRefs } from '../schema.js';

/** A stored conversation reference: opaque JSON to everything below src/bot. */
export type StoredConversationRef = Record<string, unknown>;

/**
 * Stores the reference; writes only when it changed, so calling it every
 * turn is cheap. A user who talks to the bot is reachable again.
 */
export async function saveConversationRef(db: DatabaseOrTransaction, aadObjectId: string, reference: StoredConversationRef, now: Date): Promise<void> {
  await db
    .insert(conversationRefs)
    .values({ aadObjectId, reference, updatedAt: now })
    .onConflictDoUpdate({
      target: conversationRefs.aadObjectId,
      set: { reference, updatedAt: now, unreachableSince: null },
      setWhere: sql`${conversationRefs.reference} is distinct from excluded.reference or ${conversationRefs.unreachableSince} is not null`,
    });
}

export interface ConversationTarget {
  readonly reference: StoredConversationRef;
  /** Teams said the app was blocked or removed; nothing is sent until the user comes back. */
  readonly unreachableSince: Date | null;
}

export async function getConversationRefs(db: DatabaseOrTransaction, aadObjectIds: readonly string[]): Promise<Map<string, ConversationTarget>> {
  if (aadObjectIds.length === 0) return new Map();
  const rows = await db.select().from(conversationRefs).where(inArray(conversationRefs.aadObjectId, [...aadObjectIds]));
  return new Map(rows.map((r) => [r.aadObjectId, { reference: r.reference as StoredConversationRef, unreachableSince: r.unreachableSince }]));
}

/** Marks a user unreachable (403/404 from Teams); returns true the first time. */
export async function markConversationUnreachable(db: DatabaseOrTransaction, aadObjectId: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(conversationRefs)
    .set({ unreachableSince: now })
    .where(and(eq(conversationRefs.aadObjectId, aadObjectId), isNull(conversationRefs.unreachableSince)))
    .returning({ id: conversationRefs.aadObjectId });
  return rows.length > 0;
}
