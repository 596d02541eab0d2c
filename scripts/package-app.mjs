#!/usr/bin/env node
// Builds the Teams app package: appPackage/build/manifest.json and appPackage/build/appPackage.zip.
//
//   npm run package [-- --local] [-- --out DIR] [-- --template FILE] [-- --icons DIR]
//
// Fills ${{NAME}} placeholders in appPackage/manifest.template.json from process.env:
//   TEAMS_APP_ID, BOT_ID                           required, must be GUIDs
//   APP_WEBSITE_URL, APP_PRIVACY_URL, APP_TERMS_URL required; with --local they default to https://example.org/...
// Validates offline against the v1.19 schema bundled in @microsoft/app-manifest (never fetched),
// checks icon sizes from the PNG IHDR (color 192×192, outline 32×32), then writes the zip
// (manifest.json, color.png, outline.png at the root) with a hand-written ZIP writer (no dependency).
// Exits non-zero, listing every problem, on failure.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { AppManifestUtils } from '@microsoft/app-manifest';
import { crc32 } from './crc32.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export const SCHEMA_PATH = join(
  dirname(require.resolve('@microsoft/app-manifest/package.json')),
  'build/json-schemas/teams/v1.19/MicrosoftTeams.schema.json',
);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOCAL_DEFAULTS = {
  APP_WEBSITE_URL: 'https://example.org/safeguard-desk',
  APP_PRIVACY_URL: 'https://example.org/safeguard-desk/privacy',
  APP_TERMS_URL: 'https://example.org/safeguard-desk/terms',
};
const ICONS = { 'color.png': [192, 192], 'outline.png': [32, 32] };

// ---------- CRC32 + ZIP ----------

/** Minimal ZIP: deflated entries, fixed 1980-01-01 timestamp so output is reproducible. */
export function makeZip(entries) {
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const deflated = deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const method = stored ? 0 : 8;

    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4); // version needed
    lh.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    lh.writeUInt16LE(method, 8);
    lh.writeUInt16LE(DOS_TIME, 10);
    lh.writeUInt16LE(DOS_DATE, 12);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameBuf.length, 26);
    lh.writeUInt16LE(0, 28);
    locals.push(lh, nameBuf, body);

    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4); // version made by
    ch.writeUInt16LE(20, 6); // version needed
    ch.writeUInt16LE(0x0800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt16LE(DOS_TIME, 12);
    ch.writeUInt16LE(DOS_DATE, 14);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBuf.length, 28);
    // extra len, comment len, disk start, internal attrs = 0
    ch.writeUInt32LE(0, 38); // external attrs
    ch.writeUInt32LE(offset, 42);
    centrals.push(ch, nameBuf);

    offset += lh.length + nameBuf.length + body.length;
  }
  const central = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, central, end]);
}

/** Width/height from a PNG's IHDR, or null if the buffer is not a PNG. */
export function pngSize(buf) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(sig) || buf.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Fill ${{NAME}} placeholders; returns { text, errors }. */
export function fillTemplate(template, env, { local = false } = {}) {
  const errors = [];
  const names = [...new Set([...template.matchAll(/\$\{\{\s*([A-Z0-9_]+)\s*\}\}/g)].map((m) => m[1]))];
  const values = {};
  for (const name of names) {
    let v = env[name];
    if ((v === undefined || v === '') && local && name in LOCAL_DEFAULTS) v = LOCAL_DEFAULTS[name];
    if (v === undefined || v === '') {
      errors.push(`${name} is not set (environment variable required${name in LOCAL_DEFAULTS ? '; or pass --local to use example.org defaults' : ''})`);
      continue;
    }
    if ((name === 'TEAMS_APP_ID' || name === 'BOT_ID') && !GUID.test(v)) {
      errors.push(`${name} must be a GUID (e.g. 00000000-0000-0000-0000-000000000000), got "${v}"`);
      continue;
    }
    values[name] = v;
  }
  const text = template.replace(/\$\{\{\s*([A-Z0-9_]+)\s*\}\}/g, (all, name) =>
    name in values ? JSON.stringify(values[name]).slice(1, -1) : all,
  );
  return { text, errors };
}

/**
 * Build the package. Never throws for user errors: returns { ok, errors, manifestPath, zipPath }.
 */
export async function packageApp({
  env = process.env,
  local = false,
  outDir = join(ROOT, 'appPackage', 'build'),
  templatePath = join(ROOT, 'appPackage', 'manifest.template.json'),
  iconsDir = join(ROOT, 'appPackage'),
} = {}) {
  const errors = [];
  const { text, errors: fillErrors } = fillTemplate(readFileSync(templatePath, 'utf8'), env, { local });
  if (fillErrors.length) return { ok: false, errors: fillErrors };

  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`manifest is not valid JSON after filling placeholders: ${e.message}`] };
  }
  // Offline: pass the bundled schema explicitly (without it the library fetches manifest.$schema).
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
  if (manifest.manifestVersion !== '1.19') errors.push(`manifestVersion must be "1.19" (bundled schema), got ${JSON.stringify(manifest.manifestVersion)}`);
  const schemaErrors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  errors.push(...schemaErrors.map((e) => `schema: ${e}`));

  const files = [];
  for (const [file, [w, h]] of Object.entries(ICONS)) {
    const p = join(iconsDir, file);
    if (!existsSync(p)) {
      errors.push(`${file} not found in ${iconsDir} (run: node scripts/make-icons.mjs)`);
      continue;
    }
    const buf = readFileSync(p);
    const size = pngSize(buf);
    if (!size) errors.push(`${file} is not a PNG`);
    else if (size.width !== w || size.height !== h) errors.push(`${file} must be ${w}×${h}, is ${size.width}×${size.height}`);
    files.push({ name: file, data: buf });
  }
  const refs = [manifest.icons?.color, manifest.icons?.outline];
  if (refs[0] !== 'color.png' || refs[1] !== 'outline.png') errors.push('manifest icons must be color.png and outline.png');
  if (errors.length) return { ok: false, errors };

  const manifestJson = Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
  mkdirSync(outDir, { recursive: true });
  const manifestPath = join(outDir, 'manifest.json');
  const zipPath = join(outDir, 'appPackage.zip');
  writeFileSync(manifestPath, manifestJson);
  writeFileSync(zipPath, makeZip([{ name: 'manifest.json', data: manifestJson }, ...files]));
  return { ok: true, errors: [], manifestPath, zipPath };
}

function parseArgs(argv) {
  const opts = { local: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return resolve(v);
    };
    if (a === '--local') opts.local = true;
    else if (a === '--out') opts.outDir = next();
    else if (a === '--template') opts.templatePath = next();
    else if (a === '--icons') opts.iconsDir = next();
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`package-app: ${e.message}`);
    process.exit(2);
  }
  const res = await packageApp(opts);
  if (!res.ok) {
    console.error('package-app: the Teams app package was NOT built:');
    for (const e of res.errors) console.error(`  - ${e}`);
    process.exit(1);
  }
  console.log(`package-app: wrote ${res.manifestPath}\npackage-app: wrote ${res.zipPath}`);
}
