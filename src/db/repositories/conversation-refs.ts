/** Where each user's 1:1 chat with the bot is, for proactive messages. */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DatabaseOrTransaction } from '../client.js';
import { conversationRefs } from '../schema.js';

/** A stored conversation reference: opaque JSON to everything below src/bot. */
export type StoredConversationRef = Record<string, unknown>;

/**
 * Stores the reference; writes only when it changed, so calling it every
 * turn is cheap. A user who talks to the bot is reachable again.
 *
 * Not an upsert: ON CONFLICT DO UPDATE locks the row even when its WHERE
 * then skips the update, so a person's concurrent turns queued on their own
 * row. An UPDATE locks only rows it changes; the INSERT runs only for a new
 * person (and a race between two first turns is settled by DO NOTHING).
 */
export async function saveConversationRef(db: DatabaseOrTransaction, aadObjectId: string, reference: StoredConversationRef, now: Date): Promise<void> {
  const json = JSON.stringify(reference);
  await db.execute(sql`
    with changed as (
      update ${conversationRefs} set reference = ${json}::jsonb, updated_at = ${now.toISOString()}::timestamptz, unreachable_since = null
      where aad_object_id = ${aadObjectId} and (reference is distinct from ${json}::jsonb or unreachable_since is not null)
      returning 1)
    insert into ${conversationRefs} (aad_object_id, reference, updated_at)
    select ${aadObjectId}, ${json}::jsonb, ${now.toISOString()}::timestamptz
    where not exists (select 1 from ${conversationRefs} where aad_object_id = ${aadObjectId})
    on conflict (aad_object_id) do nothing`);
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
