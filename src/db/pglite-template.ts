/**
 * A new embedded database starts from a copy of a migrated PGlite data
 * folder instead of running initdb and every migration.
 *
 * initdb inside PGlite's WebAssembly takes about 5 s here and leaves its
 * module in memory (a first start idled at ~900 MB RSS against ~300 MB for a
 * restart). `npm ci` (the `prepare` step) builds the template once, into
 * node_modules/.cache, named after what it depends on: the PGlite release and
 * the migrations. Opening a new data folder then copies it (a cold copy of a
 * cleanly closed cluster) and migrate() finds nothing to do.
 *
 * No template, or one for another PGlite or other migrations: the data
 * folder is made the slow way, as before. Nothing here is needed on
 * PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrationsFolder, projectRoot } from '../paths.js';

/** The PGlite release installed: its package.json is not exported, so it is found from the resolved entry. */
function pgliteVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@electric-sql/pglite') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}

/** Names the template after the PGlite release and the content of every migration file. */
export function pgliteTemplateKey(): string {
  const h = createHash('sha256').update(`pglite ${pgliteVersion()}\n`);
  const files = [...readdirSync(migrationsFolder).filter((f) => f.endsWith('.sql')).sort().map((f) => join(migrationsFolder, f)), join(migrationsFolder, 'meta', '_journal.json')];
  for (const f of files) h.update(`${f.slice(migrationsFolder.length)}\n`).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

/** Where the template for this PGlite and these migrations lives. */
export function pgliteTemplateDir(cacheRoot = join(projectRoot, 'node_modules', '.cache', 'safeguard-desk')): string {
  return join(cacheRoot, `pglite-${pgliteTemplateKey()}`);
}

const isCluster = (dir: string) => existsSync(join(dir, 'PG_VERSION'));

/**
 * Copies a folder tree on a worker thread. The copy is disk-bound (~0.2 s
 * warm, over 1 s when the template has left the page cache) and the main
 * thread meanwhile loads the bot's modules, so the two overlap. On the main
 * thread, fs.cp took ~2 s (each of ~1,100 files waited for a thread busy
 * loading modules) and a synchronous copy added its whole time to start-up.
 * The worker is plain JavaScript given as a string: no loader or build step.
 */
const COPY_TREE_WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
function copy(from, to) {
  fs.mkdirSync(to);
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory()) copy(a, b);
    else if (e.isFile()) fs.copyFileSync(a, b, fs.constants.COPYFILE_FICLONE);
    else throw new Error('unexpected entry in the PGlite template: ' + a);
  }
}
copy(workerData.from, workerData.to);
`;

function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(COPY_TREE_WORKER, { eval: true, workerData: { from, to } });
    let failed: unknown;
    worker.once('error', (err) => (failed = err));
    worker.once('exit', (code) => (failed !== undefined || code !== 0 ? reject(failed ?? new Error(`the template copy stopped with exit code ${code}`)) : resolve()));
  });
}

/**
 * Copies the template into `dataDir` when that folder is new (absent or
 * empty) and a template for this PGlite and these migrations exists. Returns
 * whether it did. The copy goes to a sibling first and is renamed into
 * place, so an interrupted copy never leaves a half-made database behind.
 */
export async function seedFromTemplate(dataDir: string, templateDir = pgliteTemplateDir()): Promise<boolean> {
  if (!isCluster(templateDir)) return false;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false;
  const staging = `${dataDir}.seeding-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dirname(dataDir), { recursive: true });
  try {
    await copyTree(templateDir, staging);
    // rename() replaces an empty folder and refuses one that holds anything: if something
    // appeared there during the copy, it is left alone and the template is not used.
    renameSync(staging, dataDir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false;
    throw err;
  }
  return true;
}

/**
 * Builds the template if it is missing: initdb, every migration, a clean
 * close, then an atomic rename into place. Old templates (other keys) are
 * removed. Returns the template's folder.
 */
export async function buildPgliteTemplate(templateDir = pgliteTemplateDir()): Promise<{ dir: string; built: boolean }> {
  if (isCluster(templateDir)) return { dir: templateDir, built: false };
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const parent = dirname(templateDir);
  mkdirSync(parent, { recursive: true });
  const staging = `${templateDir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const client = await PGlite.create(staging);
    await migrate(drizzle(client), { migrationsFolder });
    await client.close();
    renameSync(staging, templateDir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (isCluster(templateDir)) return { dir: templateDir, built: false }; // another process made it first
    throw err;
  }
  for (const old of readdirSync(parent)) {
    const p = join(parent, old);
    if (old.startsWith('pglite-') && p !== templateDir && !old.includes('.building-')) rmSync(p, { recursive: true, force: true });
  }
  return { dir: templateDir, built: true };
}
