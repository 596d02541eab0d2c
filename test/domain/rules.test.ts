import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, auditHash, verifyChain, type AuditEntry } from '../../src/domain/audit.js';
import { parseReference } from '../../src/domain/referral.js';
import { londonDate, formatLondonDateTime } from '../../src/domain/time.js';
import { parseCommand } from '../../src/bot/commands.js';
import { parseDirectory } from '../../src/domain/directory.js';
import { assertCanSeeArea } from '../../src/domain/permissions.js';

function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const f = { seq, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)), actorAadObjectId: 'a', action: 'x', entityType: 'referral', entityId: `r${seq}`, purpose: null };
    const hash = auditHash(prev, f);
    out.push({ ...f, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('audit chain', () => {
  it('verifies an intact chain, also in pages', () => {
    const c = chain(5);
    expect(verifyChain(c)).toBeUndefined();
    expect(verifyChain(c.slice(2), { seq: 2, hash: c[1]!.hash })).toBeUndefined();
  });
  it('finds an edited, removed or reordered entry', () => {
    const c = chain(4);
    expect(verifyChain(c.map((e) => (e.seq === 3 ? { ...e, entityId: 'other' } : e)))).toEqual({ seq: 3, problem: 'hash' });
    expect(verifyChain([c[0]!, c[2]!, c[3]!])).toEqual({ seq: 3, problem: 'gap' });
    expect(verifyChain([c[0]!, { ...c[2]!, seq: 2 }])).toEqual({ seq: 2, problem: 'prev_hash' });
  });
});

describe('references', () => {
  it('parse what a user typed', () => {
    expect(parseReference(' prv-2026-000042 ')).toBe('PRV-2026-000042');
    expect(parseReference('PRV-2026-42')).toBeUndefined();
    expect(parseReference("PRV-2026-000042'; drop table")).toBeUndefined();
  });
});

describe('London time', () => {
  it('gives the London date either side of the clock changes', () => {
    expect(londonDate(new Date('2026-03-28T23:30:00Z'))).toBe('2026-03-28'); // GMT
    expect(londonDate(new Date('2026-06-30T23:30:00Z'))).toBe('2026-07-01'); // BST
    expect(londonDate(new Date('2026-10-24T23:30:00Z'))).toBe('2026-10-25'); // still BST
    expect(londonDate(new Date('2026-10-25T23:30:00Z'))).toBe('2026-10-25'); // GMT again
    expect(formatLondonDateTime(new Date('2026-07-01T09:30:00Z'))).toBe('1 Jul 2026, 10:30');
  });
});

describe('commands', () => {
  it('are anchored and case-insensitive', () => {
    expect(parseCommand('Refer')).toEqual({ name: 'refer' });
    expect(parseCommand('my referrals')).toEqual({ name: 'myReferrals' });
    expect(parseCommand('<at>Safeguard Desk</at> help')).toEqual({ name: 'help' });
    expect(parseCommand('please refer this')).toEqual({ name: 'unknown', text: 'please refer this' });
    expect(parseCommand('case prv-2026-000001')).toEqual({ name: 'case', reference: 'PRV-2026-000001' });
    expect(parseCommand('case nonsense').name).toBe('unknown');
  });
});

describe('directory and permissions', () => {
  const dir = parseDirectory(
    JSON.stringify({ areas: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], people: [{ aadObjectId: 'o', name: 'O', email: 'o@x.org', roles: ['officer'], areas: ['a'], trainedUntil: '2026-12-31' }] }),
    'test',
  );
  it('makes everyone a referrer and officers officers of their areas only', () => {
    expect(dir.actor('nobody', 'N').roles).toEqual(['referrer']);
    const o = dir.actor('o', 'ignored');
    expect(o.name).toBe('O');
    expect(() => assertCanSeeArea(o, 'a', '2026-12-31')).not.toThrow();
    expect(() => assertCanSeeArea(o, 'b', '2026-12-31')).toThrow('forbidden');
    expect(() => assertCanSeeArea(o, 'a', '2027-01-01')).toThrow('training_expired');
    expect(() => assertCanSeeArea(dir.actor('nobody', 'N'), 'a', '2026-01-01')).toThrow('forbidden');
  });
});
