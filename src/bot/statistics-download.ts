/**
 * `GET /stats/<token>.csv`: the statistics CSV behind a download link that
 * the card's "Download CSV" handed out (see src/http/download-links.ts for
 * why a link). The link is checked, spent, and the year counted afresh; the
 * person who clicked an old or used link is told, in their language, how to
 * get a new one.
 */
import type { AppDeps } from '../app/context.js';
import { statisticsForLink } from '../app/statistics.js';
import { exportForLink } from '../app/retention.js';
import { londonDate } from '../domain/time.js';
import { resolveLocale, translator } from '../i18n/catalogue.js';
import type { DownloadLinks } from '../http/download-links.js';
import type { DownloadAnswer } from '../http/server.js';
import { csvFilename, statisticsCsv } from './statistics-view.js';
import type { ViewContext } from './views.js';

export function statisticsDownloads(deps: AppDeps, links: DownloadLinks): (token: string) => Promise<DownloadAnswer> {
  return async (token) => {
    const redeemed = await links.redeem(token, 'statistics');
    const reason = !redeemed.ok ? redeemed.reason : redeemed.grant.kind !== 'statistics' ? 'invalid' : undefined;
    if (!redeemed.ok || redeemed.grant.kind !== 'statistics') {
      const t = translator('en-GB');
      deps.log.info({ reason }, 'statistics download refused');
      return { ok: false, status: reason === 'invalid' ? 404 : 410, message: t(`stats.link.${reason ?? 'invalid'}`) };
    }
    const { grant } = redeemed;
    const v: ViewContext = { t: translator(resolveLocale(grant.locale)), directory: deps.directory, today: londonDate(deps.now()) };
    const report = await statisticsForLink(deps, grant);
    deps.log.info({ pathway: grant.pathway, year: grant.year }, 'statistics CSV downloaded');
    return { ok: true, filename: csvFilename(report), contentType: 'text/csv; charset=utf-8', body: statisticsCsv(v, report) };
  };
}

/**
 * `GET /exports/<token>.json`: the subject-access export behind a link a
 * supervisor was given. The link is checked and spent, then the use-case
 * checks again that its holder may still see the record, and audits it.
 */
export function recordExports(deps: AppDeps, links: DownloadLinks): (token: string) => Promise<DownloadAnswer> {
  return async (token) => {
    const t = translator('en-GB');
    const redeemed = await links.redeem(token, 'export');
    if (!redeemed.ok || redeemed.grant.kind !== 'export') {
      const reason = !redeemed.ok ? redeemed.reason : 'invalid';
      deps.log.info({ reason }, 'record export refused');
      return { ok: false, status: reason === 'invalid' ? 404 : 410, message: t(`export.link.${reason}`) };
    }
    const file = await exportForLink(deps, redeemed.grant);
    if (!file) return { ok: false, status: 403, message: t('export.link.forbidden') };
    return { ok: true, filename: file.filename, contentType: 'application/json; charset=utf-8', body: file.body };
  };
}
