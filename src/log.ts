/**
 * pino JSON logs. Personal data is redacted by path wherever it might appear
 * (activity text and card values, names, addresses, answers); log ids and
 * event kinds, not people.
 */
import pino, { type Logger } from 'pino';

export const redactPaths = [
  'text',
  'value',
  'answers',
  'reference',
  'name',
  'email',
  'address',
  'dateOfBirth',
  '*.text',
  '*.value',
  '*.answers',
  '*.name',
  '*.email',
  '*.address',
  '*.dateOfBirth',
  'activity.from',
  'activity.recipient',
  'activity.text',
  'activity.value',
  'req.body',
  'err.params',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' }, base: { service: 'safeguard-desk' } }, destination);
}
