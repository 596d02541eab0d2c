/** Starts Safeguard Desk: config → database → application → HTTP. */
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { openDatabase } from './db/client.js';
import cluster from 'node:cluster';

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

if (config.workers > 1 && cluster.isPrimary) {
  // One process per core, sharing the port. Every worker is a full instance: any of them can
  // serve any turn (state is in PostgreSQL) and the outbox is claimed with SKIP LOCKED.
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ worker: worker.id, code }, 'worker died; starting another');
    cluster.fork();
  });
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    setTimeout(() => process.exit(0), 16_000).unref();
  };
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  process.on('SIGINT', () => stopAll('SIGINT'));
  await new Promise(() => {}); // the primary only supervises
}

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
process.on('disconnect', () => stop('primary gone'));
