/**
 * Runs a job now and then (the reminder sweep). The timer only says "look
 * now": what is due lives in the database, so a restart or a second
 * instance changes nothing but who looks first. Runs never overlap.
 */
import type { Logger } from 'pino';

export class PeriodicJob<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T | undefined> | undefined;

  constructor(
    private readonly o: { readonly name: string; readonly everyMs: number; readonly run: () => Promise<T>; readonly log: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.o.everyMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** Runs now, or waits for the run in progress. */
  async runOnce(): Promise<T | undefined> {
    if (this.running) return this.running;
    this.running = this.o
      .run()
      .catch((err: unknown) => {
        this.o.log.error({ err, job: this.o.name }, 'periodic job failed');
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
