/**
 * Reads the database the way someone with a copy of it would: every
 * text-like column (text, varchar, json, jsonb, arrays, bytea) of every table
 * in the public schema, each cast to text. Used to show what is, and is not,
 * stored in the clear.
 */
import { sql } from 'drizzle-orm';
import { executeRows, type DatabaseOrTransaction } from '../../src/db/client.js';

export interface StoredColumn {
  readonly table: string;
  readonly column: string;
  readonly dataType: string;
}

/** Every text-like column of every table in the public schema. */
export async function storedColumns(db: DatabaseOrTransaction): Promise<StoredColumn[]> {
  const rows = await executeRows<{ table_name: string; column_name: string; data_type: string }>(
    db,
    sql`select c.table_name, c.column_name, c.data_type
        from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
        where c.table_schema = 'public'
          and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY')
        order by c.table_name, c.ordinal_position`,
  );
  return rows.map((r) => ({ table: r.table_name, column: r.column_name, dataType: r.data_type }));
}

const quote = (name: string) => sql.raw(`"${name.replace(/"/g, '""')}"`);
/** A column as text: bytea as its bytes (escape form), so plain text inside it shows. */
const asText = (c: StoredColumn) => (c.dataType === 'bytea' ? sql`encode(${quote(c.column)}, 'escape')` : sql`${quote(c.column)}::text`);

/** The columns (`table.column`) in which `needle` appears anywhere, in any row. */
export async function columnsHolding(db: DatabaseOrTransaction, needle: string, columns?: readonly StoredColumn[]): Promise<string[]> {
  const found: string[] = [];
  for (const c of columns ?? (await storedColumns(db))) {
    const [row] = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from ${quote(c.table)} where position(${needle} in ${asText(c)}) > 0`);
    if (Number(row?.n ?? 0) > 0) found.push(`${c.table}.${c.column}`);
  }
  return found;
}

/** Every stored string of every text-like column that contains `fragment` (for reading envelopes back). */
export async function storedValuesContaining(db: DatabaseOrTransaction, fragment: string, columns?: readonly StoredColumn[]): Promise<Array<{ at: string; text: string }>> {
  const out: Array<{ at: string; text: string }> = [];
  for (const c of columns ?? (await storedColumns(db))) {
    const rows = await executeRows<{ v: string }>(db, sql`select ${asText(c)} as v from ${quote(c.table)} where position(${fragment} in ${asText(c)}) > 0`);
    for (const r of rows) out.push({ at: `${c.table}.${c.column}`, text: r.v });
  }
  return out;
}
