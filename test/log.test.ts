/** Logs never carry personal data: redacted paths, and errors without their SQL parameters. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { LogCapture } from './harness/harness.js';

describe('logging', () => {
  it('drops driver query parameters from errors, including causes', () => {
    const logs = new LogCapture();
    const log = createLogger('info', logs);
    const cause = Object.assign(new Error('duplicate key'), { code: '23505', parameters: ['Jordan Testperson'], query: 'insert …' });
    const err = Object.assign(new Error('Failed query: insert into referrals values ($1)\nparams: Jordan Testperson,1 Example Street'), { params: ['Jordan Testperson'], cause });
    log.error({ err }, 'turn failed');
    expect(logs.text).toContain('Failed query: insert into referrals');
    expect(logs.text).toContain('23505');
    expect(logs.text).not.toContain('Jordan');
    expect(logs.text).not.toContain('Example Street');
  });

  it('redacts names, text and card values wherever they sit', () => {
    const logs = new LogCapture();
    createLogger('info', logs).info({ activity: { from: { name: 'Jordan' }, text: 'about Jordan' }, value: { firstName: 'Jordan' }, person: { name: 'Jordan' }, answers: { aboutPerson: { lastName: 'Jordan' } } }, 'x');
    expect(logs.text).not.toContain('Jordan');
  });

  it('keeps the error type readable', () => {
    const logs = new LogCapture();
    createLogger('info', logs).error({ err: Object.assign(new Error('boom'), { name: 'RestError' }) }, 'x');
    expect(logs.text).toContain('"name":"RestError"');
    expect(logs.text).not.toContain('[redacted]');
  });
});
