/** Starts Safeguard Desk: config → database → application → HTTP. */
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startService } from './start.js';

const started = performance.now();
const bootLog = createLogger(process.env.LOG_LEVEL ?? 'info');

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    bootLog.fatal(`Configuration problem: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
const log = createLogger(config.logLevel);
if (config.anonymous) log.warn({ host: config.host }, 'No MicrosoftAppId: running WITHOUT Bot Framework authentication (local use only)');
if (!process.env.DIRECTORY_FILE) log.warn({ directory: config.directorySource }, 'DIRECTORY_FILE not set: using the demo directory');

process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

const service = await startService(config, { log });
log.info({ url: service.url, database: service.database.kind, readyMs: Math.round(performance.now() - started) }, 'Safeguard Desk is ready');

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  service.close().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
