/**
 * A new embedded database is a copy of the migrated template (made by npm
 * ci), not a fresh initdb: same migrations, data of its own, and an existing
 * database is never overwritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase, executeRows, PGLITE_SHARED_BUFFERS } from '../../src/db/client.js';
import { buildPgliteTemplate, pgliteTemplateDir, seedFromTemplate } from '../../src/db/pglite-template.js';
import { migrationsFolder } from '../../src/paths.js';

const journalEntries = (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

describe('PGlite template', () => {
  let root: string;
  let template: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sgd-template-'));
    template = pgliteTemplateDir(join(root, 'cache'));
    // A stale template of other migrations, to be cleared when the current one is built.
    mkdirSync(join(root, 'cache', 'pglite-0000000000000000'), { recursive: true });
    const first = await buildPgliteTemplate(template);
    expect(first).toEqual({ dir: template, built: true });
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is built once, named after PGlite and the migrations, and replaces older templates', async () => {
    expect(await buildPgliteTemplate(template)).toEqual({ dir: template, built: false });
    expect(readdirSync(join(root, 'cache'))).toEqual([template.split('/').at(-1)]);
  });

  it('seeds a new data folder that opens migrated, with data of its own', async () => {
    const dataDir = join(root, 'a', 'pglite');
    expect(await seedFromTemplate(dataDir, template)).toBe(true);
    const h = await openDatabase({ pgliteDataDir: dataDir });
    try {
      const [m] = await executeRows<{ n: number }>(h.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(m!.n).toBe(journalEntries);
      const [b] = await executeRows<{ shared_buffers: string }>(h.db, sql`show shared_buffers`);
      expect(b!.shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
      await h.db.execute(sql`insert into bot_state (key, data, etag, updated_at) values ('only-in-a', '{}'::jsonb, 'e1', now())`);
    } finally {
      await h.close();
    }
    // The template is untouched: a second folder starts empty.
    const other = join(root, 'b', 'pglite');
    expect(await seedFromTemplate(other, template)).toBe(true);
    const h2 = await openDatabase({ pgliteDataDir: other });
    try {
      const rows = await executeRows(h2.db, sql`select key from bot_state`);
      expect(rows).toEqual([]);
    } finally {
      await h2.close();
    }
    // The first keeps its row across a restart.
    const again = await openDatabase({ pgliteDataDir: dataDir });
    try {
      expect(await executeRows(again.db, sql`select key from bot_state`)).toEqual([{ key: 'only-in-a' }]);
    } finally {
      await again.close();
    }
  }, 60_000);

  it('seeds an empty folder, never touches one that holds something, and does nothing without a template', async () => {
    const busy = join(root, 'busy');
    mkdirSync(busy, { recursive: true });
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    expect(await seedFromTemplate(busy, template)).toBe(false);
    expect(readdirSync(busy)).toEqual(['keep.txt']);

    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(await seedFromTemplate(empty, template)).toBe(true);
    expect(existsSync(join(empty, 'PG_VERSION'))).toBe(true);
    expect(readdirSync(root).filter((f) => f.includes('.seeding-'))).toEqual([]);

    const fresh = join(root, 'fresh', 'pglite');
    expect(await seedFromTemplate(fresh, join(root, 'cache', 'pglite-ffffffffffffffff'))).toBe(false);
    expect(existsSync(fresh)).toBe(false);
  });
});
