/**
 * Turn state in Postgres, shaped as botbuilder's `Storage` (read / write /
 * delete with eTags) without importing botbuilder: src/bot hands it to
 * teams-ai. A write whose eTag is stale is refused, as botbuilder expects.
 */
import { inArray, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { DatabaseOrTransaction } from './client.js';
import { executeRows } from './client.js';
import { botState } from './schema.js';

type Item = Record<string, unknown> & { eTag?: string };

export class StateConflictError extends Error {
  constructor(key: string) {
    super(`Storage: eTag conflict writing "${key}"`);
    this.name = 'StateConflictError';
  }
}

export class BotStateStore {
  private readonly readQuery;

  constructor(private readonly db: DatabaseOrTransaction) {
    // Read on every turn: prepared once.
    this.readQuery = db.select().from(botState).where(sql`${botState.key} = any(${sql.placeholder('keys')}::text[])`).prepare('read_bot_state');
  }

  async read(keys: string[]): Promise<Record<string, Item>> {
    if (keys.length === 0) return {};
    const rows = await this.readQuery.execute({ keys });
    const out: Record<string, Item> = {};
    for (const r of rows) out[r.key] = { ...(r.data as Record<string, unknown>), eTag: r.etag };
    return out;
  }

  async write(changes: Record<string, Item>): Promise<void> {
    for (const [key, item] of Object.entries(changes)) {
      const { eTag, ...data } = item;
      const next = randomUUID();
      const json = JSON.stringify(data);
      if (eTag === undefined || eTag === '*' || eTag === '') {
        // Last writer wins, as botbuilder specifies for '*' or no eTag.
        await this.db.execute(sql`insert into ${botState} (key, data, etag, updated_at) values (${key}, ${json}::jsonb, ${next}, now())
          on conflict (key) do update set data = excluded.data, etag = excluded.etag, updated_at = excluded.updated_at`);
        continue;
      }
      // Insert if new; update only if nobody wrote since we read.
      const rows = await executeRows(
        this.db,
        sql`insert into ${botState} (key, data, etag, updated_at) values (${key}, ${json}::jsonb, ${next}, now())
          on conflict (key) do update set data = excluded.data, etag = excluded.etag, updated_at = excluded.updated_at
          where ${botState.etag} = ${eTag}
          returning key`,
      );
      if (rows.length === 0) throw new StateConflictError(key);
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.delete(botState).where(inArray(botState.key, keys));
  }
}
