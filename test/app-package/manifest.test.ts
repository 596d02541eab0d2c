import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { AppManifestUtils } from '@microsoft/app-manifest';
import { parseCommand } from '../../src/bot/commands.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SCRIPT = join(ROOT, 'scripts/package-app.mjs');
const SCHEMA_PATH = join(ROOT, 'node_modules/@microsoft/app-manifest/build/json-schemas/teams/v1.19/MicrosoftTeams.schema.json');
const GUIDS = { TEAMS_APP_ID: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', BOT_ID: '9b2c7a1e-5d4f-4e3a-8b6c-1a2b3c4d5e6f' };

function runPackage(args: string[], env: Record<string, string | undefined>) {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !['TEAMS_APP_ID', 'BOT_ID', 'APP_WEBSITE_URL', 'APP_PRIVACY_URL', 'APP_TERMS_URL'].includes(k)) childEnv[k] = v;
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, env: childEnv, encoding: 'utf8' });
}

/** Read every entry of a ZIP via its central directory. */
function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= 0; i--) if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  expect(eocd).toBeGreaterThanOrEqual(0);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    expect(buf.readUInt32LE(p)).toBe(0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    expect(buf.readUInt32LE(local)).toBe(0x04034b50);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const body = buf.subarray(start, start + csize);
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    expect(data.length).toBe(usize);
    out.set(name, data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Decode an 8-bit RGBA, non-interlaced PNG into pixels. */
function decodePng(buf: Buffer): { width: number; height: number; px: Uint8Array } {
  expect(buf.subarray(1, 4).toString('ascii')).toBe('PNG');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  expect(buf[24]).toBe(8);
  expect(buf[25]).toBe(6);
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    if (buf.toString('ascii', off + 4, off + 8) === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 4 ? px[y * stride + x - 4]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? px[(y - 1) * stride + x - 4]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const pp = a + b - c, pa = Math.abs(pp - a), pb = Math.abs(pp - b), pc = Math.abs(pp - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return { width, height, px };
}

describe('Teams app package', () => {
  let out: string;
  let run: ReturnType<typeof runPackage>;
  let entries: Map<string, Buffer>;
  let manifest: any;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'sgd-apppkg-'));
    run = runPackage(['--local', '--out', out], GUIDS);
    const zip = join(out, 'appPackage.zip');
    entries = existsSync(zip) ? readZip(readFileSync(zip)) : new Map();
    manifest = entries.has('manifest.json') ? JSON.parse(entries.get('manifest.json')!.toString('utf8')) : undefined;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('builds with --local and two GUIDs, exit 0', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });

  it('zip holds exactly manifest.json, color.png, outline.png at the root', () => {
    expect([...entries.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    expect(entries.get('manifest.json')!.equals(readFileSync(join(out, 'manifest.json')))).toBe(true);
  });

  it('manifest is filled and validates against the bundled 1.19 schema (offline)', async () => {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
    expect(await AppManifestUtils.validateAgainstSchema(manifest, schema)).toEqual([]);
    expect(manifest.manifestVersion).toBe('1.19');
    expect(manifest.id).toBe(GUIDS.TEAMS_APP_ID);
    expect(manifest.bots[0].botId).toBe(GUIDS.BOT_ID);
    expect(manifest.developer.privacyUrl).toMatch(/^https:\/\/example\.org\//);
    expect(JSON.stringify(manifest)).not.toContain('${{');
    expect(manifest.bots[0].scopes).toEqual(['personal']);
    expect(manifest.permissions).toEqual(['identity', 'messageTeamMembers']);
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
    expect(manifest.description.full).toMatch(/not criminal records/);
  });

  it('every command in the command list is understood by the bot', () => {
    const lists = manifest.bots[0].commandLists as { scopes: string[]; commands: { title: string; description: string }[] }[];
    expect(lists).toHaveLength(1);
    expect(lists[0]!.scopes).toEqual(['personal']);
    const titles = lists[0]!.commands.map((c) => c.title);
    expect(titles).toEqual(['help', 'refer', 'drafts', 'my referrals', 'queue', 'cases', 'case', 'due', 'settings', 'whoami']);
    for (const title of titles) {
      expect(parseCommand(title === 'case' ? 'case PRV-2026-000042' : title).name, title).not.toBe('unknown');
    }
    const caseCmd = lists[0]!.commands.find((c) => c.title === 'case')!;
    expect(caseCmd.description).toBe('Open a referral or case: case PRV-2026-000042');
  });

  it('icons are 192×192 colour and 32×32 white-on-transparent outline', () => {
    const color = decodePng(entries.get('color.png')!);
    expect([color.width, color.height]).toEqual([192, 192]);
    // corner is the accent colour, fully opaque
    expect([...color.px.subarray(0, 4)]).toEqual([0x1f, 0x5c, 0x63, 255]);
    const outline = decodePng(entries.get('outline.png')!);
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let opaque = 0;
    for (let i = 0; i < outline.px.length; i += 4) {
      const [r, g, b, a] = outline.px.subarray(i, i + 4);
      expect(a === 0 || (r === 255 && g === 255 && b === 255), `pixel ${i / 4}`).toBe(true);
      if (a === 255) opaque++;
    }
    expect(opaque).toBeGreaterThan(50); // there is a drawn mark, not an empty image
  });

  it('fails naming BOT_ID when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgd-apppkg-'));
    try {
      const r = runPackage(['--local', '--out', dir], { TEAMS_APP_ID: GUIDS.TEAMS_APP_ID });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('BOT_ID');
      expect(r.stderr).not.toContain('TEAMS_APP_ID');
      expect(existsSync(join(dir, 'appPackage.zip'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when BOT_ID is not a GUID, and without --local when URLs are missing', () => {
    const r1 = runPackage(['--local', '--out', join(tmpdir(), 'sgd-never')], { ...GUIDS, BOT_ID: 'my-bot' });
    expect(r1.status).not.toBe(0);
    expect(r1.stderr).toMatch(/BOT_ID must be a GUID/);
    const r2 = runPackage(['--out', join(tmpdir(), 'sgd-never')], GUIDS);
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain('APP_PRIVACY_URL');
  });

  it('reports the schema error for a broken manifest (accentColor "teal")', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgd-apppkg-'));
    try {
      const tpl = JSON.parse(readFileSync(join(ROOT, 'appPackage/manifest.template.json'), 'utf8'));
      tpl.accentColor = 'teal';
      const tplPath = join(dir, 'manifest.template.json');
      writeFileSync(tplPath, JSON.stringify(tpl));
      const r = runPackage(['--local', '--template', tplPath, '--out', join(dir, 'build')], GUIDS);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/schema: \/accentColor/);
      expect(existsSync(join(dir, 'build', 'appPackage.zip'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
