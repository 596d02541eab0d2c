/**
 * Compiles src/ into dist/ when any source is newer than the last build, so
 * `npm start` runs plain JavaScript (tsx's loader hooks cost ~1.8 s of
 * start-up, resolving every module of botbuilder) without a build step to
 * remember. Exits non-zero when the compiler does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.tsbuildinfo');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function buildIfStale(log = (m) => process.stderr.write(`${m}\n`)) {
  const sources = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs, statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources && existsSync(join(root, 'dist', 'index.js'))) return;
  log('[build] compiling src/ into dist/ …');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    log('[build] the TypeScript compiler failed (see above).');
    process.exit(r.status ?? 1);
  }
}

/**
 * The migrated PGlite data folder a new embedded database is copied from
 * (src/db/pglite-template.ts): made once here, at npm ci, so that the first
 * `npm start` does not spend ~5 s in initdb. Skipped when it is up to date.
 */
export async function ensurePgliteTemplate(log = (m) => process.stderr.write(`${m}\n`)) {
  const { buildPgliteTemplate, pgliteTemplateDir } = await import('../dist/db/pglite-template.js');
  const dir = pgliteTemplateDir();
  const started = Date.now();
  const { built } = await buildPgliteTemplate(dir);
  if (built) log(`[build] embedded database template ready in ${Date.now() - started} ms: ${dir}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildIfStale();
  if (process.argv.includes('--pglite-template')) await ensurePgliteTemplate();
}
