/**
 * The statistics card and CSV (DESIGN §9). They show the report as the use-case
 * published it: every figure is already a count, `<5` or `[c]`; nothing here
 * sees a withheld count. Labels come from the catalogue (the form's own choice
 * labels) and area names from the directory.
 */
import { stringify } from 'csv-stringify/sync';
import type { Logger } from 'pino';
import { financialYearSpan, type Figure, type StatisticsReport, type StatisticsRow } from '../domain/statistics.js';
import { formatCalendarDate } from '../domain/time.js';
import { isMessageKey } from '../i18n/catalogue.js';
import { button, renderCard, type NoticeView } from './cards.js';
import { renderBarChart, type BarChart } from './statistics-chart.js';
import { tk, type ViewContext } from './views.js';

type Card = Record<string, unknown>;

/** 2025 → "2025/26". */
export function yearLabel(year: number): string {
  return `${year}/${String((year + 1) % 100).padStart(2, '0')}`;
}

const numbers = new Intl.NumberFormat('en-GB');

/** A figure as the card shows it: 1,234, `<5` or `[c]`. */
export function figureText(f: Figure): string {
  return typeof f === 'number' ? numbers.format(f) : f;
}

function signed(n: number): string {
  return n > 0 ? `+${numbers.format(n)}` : n < 0 ? `−${numbers.format(-n)}` : '0';
}

/** "+134 (+12%)"; the percentage only against a previous count above zero; a dash when either year is withheld. */
function changeText(row: StatisticsRow): string {
  if (row.change === undefined) return '–';
  const previous = row.previous as number;
  if (previous === 0) return signed(row.change);
  const pct = Math.round((row.change / previous) * 100);
  return `${signed(row.change)} (${pct > 0 ? '+' : pct < 0 ? '−' : ''}${Math.abs(pct)}%)`;
}

/** A row's label: the catalogue's, the directory's name of an area, or the category as stored. */
export function rowLabel(v: ViewContext, row: StatisticsRow): string {
  const label = row.labelKey ? tk(v.t, row.labelKey) : (v.directory.area(row.key)?.name ?? row.key);
  return row.partOf ? v.t('stats.ofWhich', { label }) : label;
}

function pathwayName(v: ViewContext, report: StatisticsReport): string {
  const key = `stats.pathway.${report.pathway}`;
  return isMessageKey(key) ? v.t(key) : report.pathway;
}

function periodText(v: ViewContext, report: StatisticsReport): string {
  const span = financialYearSpan(report.year);
  const params = { first: formatCalendarDate(span.first), last: formatCalendarDate(span.last), asOf: formatCalendarDate(report.asOf) };
  return report.complete ? v.t('stats.period', params) : v.t('stats.periodSoFar', params);
}

/** The chart of referrals by type of concern, from the published figures. */
export function concernChart(v: ViewContext, report: StatisticsReport): BarChart {
  const table = report.tables.find((t) => t.dimension === 'concernType');
  return {
    title: v.t('stats.chart.title', { year: yearLabel(report.year) }),
    bars: (table?.rows ?? []).map((row) => ({
      label: rowLabel(v, row),
      value: typeof row.figure === 'number' ? row.figure : 0,
      text: figureText(row.figure),
      withheld: typeof row.figure !== 'number',
    })),
  };
}

type StatsChart = readonly [] | readonly [{ readonly url: string; readonly altText: string }];

/** The chart as a card image, or none (the card is complete without it) if it cannot be drawn. */
async function chartImage(v: ViewContext, report: StatisticsReport, log: Logger): Promise<StatsChart> {
  const chart = concernChart(v, report);
  try {
    const png = await renderBarChart(chart);
    const altText = `${chart.title}: ${chart.bars.map((b) => `${b.label} ${b.text}`).join('; ')}`;
    return [{ url: `data:image/png;base64,${png.toString('base64')}`, altText }];
  } catch (err) {
    log.warn({ err }, 'statistics chart could not be drawn; card sent without it');
    return [];
  }
}

export interface StatisticsCardOptions {
  readonly log: Logger;
  /** A CSV link just issued for this card, and for how many minutes it works. */
  readonly link?: { readonly url: string; readonly validMinutes: number };
}

/** The `stats` card: headline, chart, one table per dimension, the change on the year before, and Download CSV. */
export async function statisticsCard(v: ViewContext, report: StatisticsReport, o: StatisticsCardOptions): Promise<Card> {
  const year = yearLabel(report.year);
  const before = yearLabel(report.year - 1);
  const concern = report.tables.find((t) => t.dimension === 'concernType')?.rows ?? [];
  const adopted = report.tables.find((t) => t.dimension === 'outcome')?.rows.filter((r) => r.partOf) ?? [];
  const changeRow = (row: StatisticsRow, label: string) => ({ label, previous: figureText(row.previous), current: figureText(row.figure), change: changeText(row), weight: 'Default' as const });
  const notice: NoticeView = o.link ? [{ text: v.t('stats.csv.ready', { minutes: o.link.validMinutes }), color: 'Good' }] : [];
  return renderCard('stats', {
    title: v.t('stats.title', { pathway: pathwayName(v, report), year }),
    period: periodText(v, report),
    notice,
    headline: v.t('stats.headline', { total: figureText(report.total.figure), before, previous: figureText(report.total.previous), change: changeText(report.total) }),
    chart: await chartImage(v, report, o.log),
    tables: report.tables.map((t) => ({
      title: v.t(`stats.table.${t.dimension}`),
      facts: t.rows.map((row) => ({ title: rowLabel(v, row), value: figureText(row.figure) })),
    })),
    change: {
      title: v.t('stats.change.title', { year, before }),
      rows: [
        { label: v.t('stats.change.category'), previous: before, current: year, change: v.t('stats.change.change'), weight: 'Bolder' },
        changeRow(report.total, v.t('stats.total')),
        ...concern.map((row) => changeRow(row, rowLabel(v, row))),
        ...adopted.map((row) => changeRow(row, rowLabel(v, row))),
      ],
    },
    notes: [
      v.t('stats.note.suppression'),
      v.t('stats.note.change'),
      ...(report.complete ? [] : [v.t('stats.note.soFar', { year, before })]),
      v.t('stats.note.deleted'),
    ].map((text) => ({ text })),
    buttons: [button(v.t('stats.csv.button'), 'stats.csv', { year: String(report.year) })],
    links: o.link ? [{ title: v.t('stats.csv.open'), url: o.link.url }] : [],
  });
}

/** The file name a download is saved under: prevent-statistics-2025-26.csv. */
export function csvFilename(report: StatisticsReport): string {
  return `${report.pathway}-statistics-${yearLabel(report.year).replace('/', '-')}.csv`;
}

/** A spreadsheet runs a cell that starts like a formula; names from the directory are made plain text. */
function plainText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/**
 * Every table in one CSV: a header saying which year and how small counts
 * are shown, then one line per row — table, category, this year, the year
 * before, the change (empty when either is withheld). UTF-8 with a byte order
 * mark, so Excel reads the dashes and apostrophes in the labels.
 */
export function statisticsCsv(v: ViewContext, report: StatisticsReport): string {
  const year = yearLabel(report.year);
  const before = yearLabel(report.year - 1);
  const line = (table: string, row: StatisticsRow, label: string) => [plainText(table), plainText(label), row.figure, row.previous, row.change ?? ''];
  const records: Array<Array<string | number>> = [
    [v.t('stats.title', { pathway: pathwayName(v, report), year })],
    [periodText(v, report)],
    [v.t('stats.note.suppression')],
    [v.t('stats.note.change')],
    ...(report.complete ? [] : [[v.t('stats.note.soFar', { year, before })]]),
    [v.t('stats.note.deleted')],
    [],
    [v.t('stats.csv.table'), v.t('stats.change.category'), year, before, v.t('stats.change.change')],
    line(v.t('stats.total'), report.total, v.t('stats.total')),
    ...report.tables.flatMap((t) => t.rows.map((row) => line(v.t(`stats.table.${t.dimension}`), row, rowLabel(v, row)))),
  ];
  return stringify(records, { bom: true, record_delimiter: 'windows' });
}
