/** Starts Safeguard Desk: config → database → application → HTTP. */
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { openDatabase } from './db/client.js';

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

// Open the database (PGlite compiles its WebAssembly off the main thread) while
// the bot's modules load: start-up is the longer of the two, not their sum.
const database = openDatabase({ databaseUrl: config.databaseUrl, pgliteDataDir: config.pgliteDataDir, poolSize: config.databasePoolSize });
database.catch(() => {}); // reported below, where it is awaited
const { startService } = await import('./start.js');
let service;
try {
  service = await startService(config, { log, database, ownsDatabase: true });
} catch (err) {
  log.fatal({ err }, 'Safeguard Desk could not start');
  process.exit(1);
}
log.info({ url: service.url, database: service.database.kind, readyMs: Math.round(process.uptime() * 1000) }, 'Safeguard Desk is ready');

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
