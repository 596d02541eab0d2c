/**
 * Annual statistics (DESIGN §9): a financial year's counts as published,
 * beside the year before, for analysts and supervisors only. The counting is
 * done by the database; suppression by the domain; what leaves here holds
 * every figure already suppressed. Views, CSV requests and refusals are
 * audited with the year only.
 */
import type { AppDeps } from './context.js';
import type { Actor } from '../domain/directory.js';
import { DomainError } from '../domain/errors.js';
import type { PathwayDefinition } from '../domain/forms.js';
import { maySeeStatistics } from '../domain/permissions.js';
import { buildReport, reportYear, type StatisticsReport, type YearCounts } from '../domain/statistics.js';
import { londonDate } from '../domain/time.js';
import { pathways, preventPathway } from '../forms/prevent.js';
import { appendAudit } from '../db/repositories/audit.js';
import { countYears } from '../db/repositories/statistics.js';

/** What an audit entry may say about the year asked for: the year, never other text the user typed. */
function auditedYear(text: string | undefined): string {
  if (text === undefined || text === '') return 'current';
  return /^\d{4}$/.test(text) ? text : 'invalid';
}

/** Refuses everyone but analysts and supervisors, before anything is read; the refusal is audited. */
async function assertStatisticsReader(deps: AppDeps, actor: Actor, action: string, yearText: string | undefined): Promise<void> {
  if (maySeeStatistics(actor)) return;
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: `${action}_denied`, entityType: 'financial_year', entityId: auditedYear(yearText) }]);
  throw new DomainError('forbidden', 'statistics are for analysts and supervisors', { about: 'statistics' });
}

const empty = (): YearCounts => ({ total: 0, adopted: 0, by: { sector: new Map(), concernType: new Map(), ageBand: new Map(), gender: new Map(), area: new Map(), outcome: new Map() } });

/** The published report of `year` (and the year before), counted in one round trip. */
async function yearReport(deps: AppDeps, pathway: PathwayDefinition, year: number): Promise<StatisticsReport> {
  const counts = await countYears(deps.db, { pathway: pathway.id, from: year - 1, to: year, adoptedOutcome: pathway.statisticsFields.adopted.outcome });
  return buildReport({
    pathway,
    year,
    today: londonDate(deps.now()),
    areaIds: deps.directory.areas.map((a) => a.id),
    counts: counts.get(year) ?? empty(),
    previous: counts.get(year - 1) ?? empty(),
  });
}

/** `stats` / `stats 2025`: the year's statistics. */
export async function viewStatistics(deps: AppDeps, actor: Actor, yearText?: string): Promise<StatisticsReport> {
  await assertStatisticsReader(deps, actor, 'statistics.view', yearText);
  const year = reportYear(yearText, londonDate(deps.now()));
  const report = await yearReport(deps, preventPathway, year);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'statistics.view', entityType: 'financial_year', entityId: String(year) }]);
  return report;
}

/**
 * The card's "Download CSV": the same checks, audited as `statistics.csv`.
 * The bot then hands out a short-lived link to the file; the figures are
 * counted again when it is fetched.
 */
export async function requestStatisticsCsv(deps: AppDeps, actor: Actor, yearText: string): Promise<StatisticsReport> {
  await assertStatisticsReader(deps, actor, 'statistics.csv', yearText);
  const year = reportYear(yearText, londonDate(deps.now()));
  const report = await yearReport(deps, preventPathway, year);
  await appendAudit(deps.db, deps.now(), [{ actorAadObjectId: actor.aadObjectId, action: 'statistics.csv', entityType: 'financial_year', entityId: String(year) }]);
  return report;
}

/**
 * The report behind a download link. The link is the permission: it was
 * signed for this year and pathway when `requestStatisticsCsv` let its
 * holder have it, a few minutes ago.
 */
export async function statisticsForLink(deps: AppDeps, grant: { readonly pathway: string; readonly year: number }): Promise<StatisticsReport> {
  const pathway = pathways[grant.pathway];
  if (!pathway) throw new DomainError('not_found');
  return yearReport(deps, pathway, grant.year);
}
