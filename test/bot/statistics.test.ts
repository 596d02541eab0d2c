/**
 * `stats` over HTTP, on a known population.
 *
 * Proves: referrals submitted through the wizard, triaged and decided at
 * panel feed the statistics in their own transactions; an analyst (Patti) and
 * a supervisor (Isaiah) get the same card — every table with `<5` for counts
 * from 1 to 4 and `[c]` where a second count had to be withheld, the change
 * on the year before only between shown counts, a chart image — while an
 * officer (Megan), a referrer (Alex) and someone not in the directory are
 * refused, see no figure, and each refusal is audited; a bad year gets a
 * message saying which years work; "Download CSV" gives a link that serves
 * the same figures as a CSV file over HTTP once, and not after it expires;
 * purging referrals leaves every figure as it was.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Harness, people, type Card } from '../harness/harness.js';
import { createTestDatabase, testDatabases, type TestDatabase } from '../harness/databases.js';
import { cardText } from '../harness/cards.js';
import { submitReferral, validAnswers } from '../harness/referral.js';
import { triage } from '../harness/officer.js';
import { executeRows, type Database } from '../../src/db/client.js';
import { referralStatistics } from '../../src/db/schema.js';
import { verifyAuditChain } from '../../src/app/audit.js';
import { parseCommand } from '../../src/bot/commands.js';

/** Friday 27 November 2026, 10:00 London: financial year 2026/27. */
let clock = new Date('2026-11-27T10:00:00Z');

type Node = Record<string, unknown>;
function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Node);
    Object.values(node).forEach((c) => walk(c, visit));
  }
}

/** The card's tables: heading → row label → figure as shown. */
function tablesOf(card: Card): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  walk(card, (n) => {
    const items = n.items as Node[] | undefined;
    if (n.type !== 'Container' || !Array.isArray(items) || items[1]?.type !== 'FactSet') return;
    out[String(items[0]!.text)] = Object.fromEntries((items[1].facts as Array<{ title: string; value: string }>).map((f) => [f.title, f.value]));
  });
  return out;
}

/** The change table: label → [previous, current, change]. */
function changesOf(card: Card): Record<string, [string, string, string]> {
  const out: Record<string, [string, string, string]> = {};
  walk(card, (n) => {
    if (n.type !== 'ColumnSet') return;
    const texts = (n.columns as Node[]).map((c) => String(((c.items as Node[])[0] as Node).text));
    if (texts.length === 4) out[texts[0]!] = [texts[1]!, texts[2]!, texts[3]!];
  });
  return out;
}

function imagesOf(card: Card): Array<{ url: string; altText: string }> {
  const out: Array<{ url: string; altText: string }> = [];
  walk(card, (n) => {
    if (n.type === 'Image') out.push({ url: String(n.url), altText: String(n.altText) });
  });
  return out;
}

function openUrlsOf(card: Card): Array<{ title: string; url: string }> {
  const out: Array<{ title: string; url: string }> = [];
  walk(card, (n) => {
    if (n.type === 'Action.OpenUrl') out.push({ title: String(n.title), url: String(n.url) });
  });
  return out;
}

/** RFC 4180 lines: quoted fields may hold commas and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      (row = []), (field = ''), i++;
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

/** A de-identified record written straight into the table (the bulk of a year; some from purged referrals). */
async function seed(db: Database, n: number, r: { year: number; sector: string; concernType: string; ageBand: string; gender: string; areaId: string; outcome: string | null; adopted?: boolean }): Promise<void> {
  await db.insert(referralStatistics).values(
    Array.from({ length: n }, () => ({
      id: randomUUID(),
      referralId: null,
      pathway: 'prevent',
      financialYear: r.year,
      sector: r.sector,
      concernType: r.concernType,
      ageBand: r.ageBand,
      gender: r.gender,
      areaId: r.areaId,
      outcome: r.outcome,
      channelAdopted: r.adopted ?? false,
    })),
  );
}

/** What this year's card must show (34 referrals: 4 through the wizard, 30 seeded). */
const expectedTables = {
  'By sector of referral': {
    Education: '22',
    Health: '<5',
    'Local authority': '[c]', // 10, withheld: Health and Police are both 1, so each could be worked out
    'Social care': '0',
    Police: '<5',
    'Community or faith group': '0',
    'Family or friend': '0',
    Other: '0',
  },
  'By type of concern': {
    Islamist: '[c]', // 11, withheld: otherwise Incel (1) = 34 − 22 − 11
    'Extreme right-wing': '22',
    'Left-wing, anarchist or single-issue': '0',
    Conflicted: '0',
    'No ideology or counter-terrorism risk': '0',
    'School massacre': '0',
    Incel: '<5',
    'Other or unclear': '0',
  },
  'By age at referral': { 'Under 15': '0', '15 to 17': '22', '18 to 20': '<5', '21 to 30': '[c]', '31 to 40': '<5', '41 and over': '0', 'Age not known': '0' },
  'By gender': { Female: '11', Male: '23', Other: '0', 'Not known': '0' },
  'By area': { Northgate: '23', Southbridge: '11', Eastfield: '0' },
  'By outcome of the gateway assessment': {
    'No further action': '21',
    'Signposted to another service': '0',
    'Referred to the Channel panel': '[c]', // 11, withheld: otherwise the 2 awaiting = 34 − 21 − 11
    'Police-led partnership case': '0',
    'Passed to counter-terrorism policing': '0',
    'Awaiting the gateway assessment': '<5',
    'of which: Adopted as a Channel case': '7',
  },
};

describe.each(testDatabases())('statistics on %s', (kind) => {
  let db: TestDatabase;
  let h: Harness;
  let base: Database;
  const references: Record<'a' | 'b' | 'c' | 'd', string> = { a: '', b: '', c: '', d: '' };

  const statsCard = async (who: keyof typeof people, text = 'stats'): Promise<Card> => {
    const cards = await h.user(who).say(text);
    expect(cards, text).toHaveLength(1);
    return cards[0]!;
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    h = await Harness.start({ database: await db.open(), now: () => clock });
    base = h.service.database.db;
    const alex = h.user('alex');
    const submit = async (answers = validAnswers()) => {
      const { reference } = await submitReferral(alex, answers);
      await h.deliverOutbox();
      return reference;
    };
    // A and C: education, extreme right-wing, 15 (born 4 May 2011), male, Northgate.
    references.a = await submit();
    // B: health, Islamist, about 34, female, Southbridge.
    references.b = await submit(
      validAnswers({ aboutYou: { sector: 'health' }, aboutPerson: { dateOfBirth: '', approximateAge: '34', gender: 'female', area: 'southbridge' }, concern: { concernType: 'islamist' } }),
    );
    references.c = await submit();
    // D: police, incel, 18, male, Northgate.
    references.d = await submit(validAnswers({ aboutYou: { sector: 'police' }, aboutPerson: { dateOfBirth: '2008-01-01' }, concern: { concernType: 'incel' } }));

    // A to the Channel panel, which first does not adopt, then (the latest decision stands) adopts.
    await triage(h.user('megan'), references.a, { outcome: 'channel', rationale: 'Meets the threshold for panel.', contactMade: 'yes' });
    await h.deliverOutbox();
    for (const decision of ['notAdopted', 'adopted']) {
      const card = await h.user('megan').execute('case.submit', { reference: references.a, form: 'panel', decision, decidedOn: '2026-11-26' });
      expect(cardText(card)).toContain('Panel decision recorded.');
    }
    // B: no further action. C and D wait for triage.
    await triage(h.user('adele'), references.b, { outcome: 'no_further_action', rationale: 'No extremist concern found.', contactMade: 'no' });
    await h.deliverOutbox();

    // The rest of this year, and last year, as records (some from referrals since purged).
    const y = { sector: 'education', concernType: 'extremeRightWing', ageBand: '15to17', gender: 'male', areaId: 'northgate' };
    await seed(base, 20, { ...y, year: 2026, outcome: 'no_further_action' });
    await seed(base, 6, { year: 2026, sector: 'localAuthority', concernType: 'islamist', ageBand: '21to30', gender: 'female', areaId: 'southbridge', outcome: 'channel', adopted: true });
    await seed(base, 4, { year: 2026, sector: 'localAuthority', concernType: 'islamist', ageBand: '21to30', gender: 'female', areaId: 'southbridge', outcome: 'channel' });
    await seed(base, 25, { ...y, year: 2025, outcome: 'no_further_action' });
    await seed(base, 3, { year: 2025, sector: 'health', concernType: 'islamist', ageBand: '41plus', gender: 'female', areaId: 'southbridge', outcome: 'no_further_action' });
    // Another pathway's and another year's records are not counted.
    await seed(base, 5, { ...y, year: 2024, outcome: null });
  });

  afterAll(async () => {
    await h.stop();
    await h.service.database.close();
    await db.drop();
  });

  it('writes one record per referral in the referral’s own transactions: categories, outcome and the latest panel decision', async () => {
    const rows = await executeRows<{ reference: string; sector: string; concern_type: string; age_band: string; gender: string; area_id: string; financial_year: number; outcome: string | null; channel_adopted: boolean }>(
      base,
      sql`select r.reference, s.sector, s.concern_type, s.age_band, s.gender, s.area_id, s.financial_year::int as financial_year, s.outcome, s.channel_adopted
          from referral_statistics s join referrals r on r.id = s.referral_id order by r.reference`,
    );
    expect(rows).toEqual([
      { reference: references.a, sector: 'education', concern_type: 'extremeRightWing', age_band: '15to17', gender: 'male', area_id: 'northgate', financial_year: 2026, outcome: 'channel', channel_adopted: true },
      { reference: references.b, sector: 'health', concern_type: 'islamist', age_band: '31to40', gender: 'female', area_id: 'southbridge', financial_year: 2026, outcome: 'no_further_action', channel_adopted: false },
      { reference: references.c, sector: 'education', concern_type: 'extremeRightWing', age_band: '15to17', gender: 'male', area_id: 'northgate', financial_year: 2026, outcome: null, channel_adopted: false },
      { reference: references.d, sector: 'police', concern_type: 'incel', age_band: '18to20', gender: 'male', area_id: 'northgate', financial_year: 2026, outcome: null, channel_adopted: false },
    ]);
  });

  it('shows an analyst every table, with <5 and the second counts withheld, the change on last year, and a chart', async () => {
    const card = await statsCard('patti');
    const text = cardText(card);
    expect(text).toContain('Prevent referrals, 2026/27');
    expect(text).toContain('Financial year 1 Apr 2026 to 31 Mar 2027: the year so far, to 27 Nov 2026.');
    expect(text).toContain('34 referrals (2025/26: 28; change +6 (+21%))');
    expect(tablesOf(card)).toEqual(expectedTables);
    // Last year: 25 + 3, with Islamist 3 → <5 and extreme right-wing 25 withheld; a change only where both years are shown.
    expect(changesOf(card)).toEqual({
      Category: ['2025/26', '2026/27', 'Change'],
      'All referrals': ['28', '34', '+6 (+21%)'],
      Islamist: ['<5', '[c]', '–'],
      'Extreme right-wing': ['[c]', '22', '–'],
      'Left-wing, anarchist or single-issue': ['0', '0', '0'],
      Conflicted: ['0', '0', '0'],
      'No ideology or counter-terrorism risk': ['0', '0', '0'],
      'School massacre': ['0', '0', '0'],
      Incel: ['0', '<5', '–'],
      'Other or unclear': ['0', '0', '0'],
      'of which: Adopted as a Channel case': ['0', '7', '+7'],
    });
    expect(text).toContain('<5 is a count from 1 to 4; [c] is a count withheld so that one under 5 cannot be worked out from the totals.');

    // The chart: a PNG small enough for a card, described in words for screen readers, with no withheld value in it.
    const [image] = imagesOf(card);
    expect(image!.url).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(image!.url.slice('data:image/png;base64,'.length), 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeLessThan(30_000);
    expect(image!.altText).toBe(
      'Referrals by type of concern, 2026/27: Islamist [c]; Extreme right-wing 22; Left-wing, anarchist or single-issue 0; Conflicted 0; No ideology or counter-terrorism risk 0; School massacre 0; Incel <5; Other or unclear 0',
    );
    mkdirSync('test-artifacts/statistics', { recursive: true });
    writeFileSync(`test-artifacts/statistics/chart-${kind}.png`, png);
    // Without the picture the card is well within Teams' message size.
    const { length } = JSON.stringify(card).replace(image!.url, '');
    expect(length).toBeLessThan(20_000);

    const [row] = await executeRows<{ n: number }>(base, sql`select count(*)::int as n from audit_log where action = 'statistics.view' and actor_aad_object_id = ${people.patti.aadObjectId} and entity_id = '2026'`);
    expect(row!.n).toBe(1);
  });

  it('shows a supervisor the same figures, and another year when asked', async () => {
    const card = await statsCard('isaiah');
    expect(tablesOf(card)).toEqual(expectedTables);
    const last = await statsCard('isaiah', 'Stats 2025');
    expect(cardText(last)).toContain('Prevent referrals, 2025/26');
    expect(cardText(last)).toContain('Financial year 1 Apr 2025 to 31 Mar 2026.');
    expect(cardText(last)).toContain('28 referrals (2024/25: 5; change +23 (+460%))');
    expect(tablesOf(last)['By sector of referral']).toMatchObject({ Education: '[c]', Health: '<5', Police: '0' });
  });

  it('refuses officers, referrers and strangers: no figure shown, each refusal audited', async () => {
    for (const who of ['megan', 'alex', 'stranger'] as const) {
      for (const ask of [() => statsCard(who), () => statsCard(who, 'stats 2025'), () => h.user(who).execute('stats.csv', { year: '2026' })]) {
        const card = await ask();
        const text = cardText(card);
        expect(text, who).toContain('Statistics are open only to analysts and supervisors.');
        expect(text).not.toMatch(/\d/);
        expect(imagesOf(card)).toEqual([]);
        expect(openUrlsOf(card)).toEqual([]);
      }
      const [row] = await executeRows<{ views: number; csvs: number }>(
        base,
        sql`select count(*) filter (where action = 'statistics.view_denied')::int as views, count(*) filter (where action = 'statistics.csv_denied')::int as csvs
            from audit_log where actor_aad_object_id = ${people[who].aadObjectId}`,
      );
      expect(row).toEqual({ views: 2, csvs: 1 });
    }
  });

  it('answers a year it cannot report with the years it can', async () => {
    for (const text of ['stats 1999', 'stats 2027', 'stats last-year']) {
      const card = await statsCard('patti', text);
      expect(cardText(card), text).toContain('There are no statistics for that year. Type stats for this financial year, or stats and a year from 2000 to 2026');
    }
    // A forged year on the button is refused the same way.
    expect(cardText(await h.user('patti').execute('stats.csv', { year: '2031' }))).toContain('There are no statistics for that year');
    expect(cardText(await h.user('patti').execute('stats.csv', { year: 'x' }))).toContain('That request could not be read');
  });

  it('downloads the same figures as a CSV file over HTTP, once, and never after the link expires', async () => {
    const card = await h.user('patti').execute('stats.csv', { year: '2026' });
    expect(cardText(card)).toContain('Your CSV file is ready: open it below. The link works once, for 5 minutes.');
    expect(tablesOf(card)).toEqual(expectedTables);
    const [link] = openUrlsOf(card);
    expect(link!.title).toBe('Open the CSV file');
    expect(link!.url).toMatch(new RegExp(`^${h.url}/stats/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}\\.csv$`));

    const res = await fetch(link!.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="prevent-statistics-2026-27.csv"');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = Buffer.from(await res.arrayBuffer()).toString('utf8');
    expect(body.charCodeAt(0)).toBe(0xfeff);
    const rows = parseCsv(body.slice(1));
    expect(rows[0]).toEqual(['Prevent referrals, 2026/27']);
    expect(rows[1]).toEqual(['Financial year 1 Apr 2026 to 31 Mar 2027: the year so far, to 27 Nov 2026.']);
    expect(rows.flat().join('\n')).toContain('<5 is a count from 1 to 4; [c] is a count withheld');
    const header = rows.findIndex((r) => r[0] === 'Table');
    expect(rows[header]).toEqual(['Table', 'Category', '2026/27', '2025/26', 'Change']);
    const data = rows.slice(header + 1);
    expect(data[0]).toEqual(['All referrals', 'All referrals', '34', '28', '6']);
    // Every figure on the card is in the file, as shown.
    const fromCsv: Record<string, Record<string, string>> = {};
    for (const [table, category, figure] of data.slice(1)) (fromCsv[table!] ??= {})[category!] = figure!;
    expect(fromCsv).toEqual(expectedTables);
    expect(data.find((r) => r[1] === 'Islamist')).toEqual(['By type of concern', 'Islamist', '[c]', '<5', '']);
    expect(data.find((r) => r[1] === 'Male')).toEqual(['By gender', 'Male', '23', '[c]', '']);
    const [audit] = await executeRows<{ n: number }>(base, sql`select count(*)::int as n from audit_log where action = 'statistics.csv' and entity_id = '2026'`);
    expect(audit!.n).toBe(1);

    // Spent: a second fetch is refused, and says how to get a new link.
    const again = await fetch(link!.url);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already been used');
    // A forged signature is not a link at all.
    const forged = link!.url.replace(/\.([A-Za-z0-9_-])([A-Za-z0-9_-]{42})\.csv$/, (_m, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}.csv`);
    expect((await fetch(forged)).status).toBe(404);
    expect((await fetch(`${h.url}/stats/nothing.csv`)).status).toBe(404);
    expect((await fetch(link!.url, { method: 'POST' })).status).toBe(405);

    // A fresh link, unused for six minutes, has expired.
    const fresh = openUrlsOf(await h.user('isaiah').execute('stats.csv', { year: '2025' }))[0]!;
    const saved = clock;
    clock = new Date(clock.getTime() + 6 * 60_000);
    try {
      const late = await fetch(fresh.url);
      expect(late.status).toBe(410);
      expect(await late.text()).toContain('expired');
    } finally {
      clock = saved;
    }
  });

  it('counts purged referrals as before: deleting the person’s records leaves every figure unchanged', async () => {
    const before = await statsCard('patti');
    // What a purge does to B (triaged, closed) and D (waiting): their rows go; the statistics records stay.
    for (const reference of [references.b, references.d]) {
      await base.execute(sql`delete from triage_assessments where referral_id = (select id from referrals where reference = ${reference})`);
      await base.execute(sql`delete from referrals where reference = ${reference}`);
    }
    const [left] = await executeRows<{ referrals: number; records: number; unlinked: number }>(
      base,
      sql`select (select count(*)::int from referrals) as referrals, count(*)::int as records, count(*) filter (where referral_id is null)::int as unlinked
          from referral_statistics where financial_year = 2026`,
    );
    expect(left).toEqual({ referrals: 2, records: 34, unlinked: 32 });
    const after = await statsCard('patti');
    expect(tablesOf(after)).toEqual(tablesOf(before));
    expect(changesOf(after)).toEqual(changesOf(before));
    expect(tablesOf(after)).toEqual(expectedTables);
  });

  it('offers stats in help to analysts and supervisors only', async () => {
    for (const who of ['patti', 'isaiah'] as const) {
      const [help] = await h.user(who).say('help');
      expect(cardText(help!), who).toContain('**stats** — Referral statistics for this financial year');
      expect(cardText(help!)).toContain('[Statistics]');
    }
    const [help] = await h.user('megan').say('help');
    expect(cardText(help!)).not.toContain('stats');
  });

  it('keeps the audit chain intact', async () => {
    const chain = await verifyAuditChain(base);
    expect(chain.problem).toBeUndefined();
    expect(chain.entries).toBeGreaterThan(0);
  });
});

describe('the stats command', () => {
  it('is understood with or without a year, in any case, and leaves the year to be checked after who is asking', () => {
    expect(parseCommand('stats')).toEqual({ name: 'stats' });
    expect(parseCommand('Statistics')).toEqual({ name: 'stats' });
    expect(parseCommand(' STATS  2025. ')).toEqual({ name: 'stats', year: '2025' });
    expect(parseCommand('<at>Safeguard Desk</at> stats 2025')).toEqual({ name: 'stats', year: '2025' });
    expect(parseCommand('stats next')).toEqual({ name: 'stats', year: 'next' });
    expect(parseCommand('stats 2025 2026').name).toBe('unknown');
    expect(parseCommand('statsy').name).toBe('unknown');
  });
});
