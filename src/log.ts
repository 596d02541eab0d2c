/**
 * pino JSON logs. Personal data is redacted by path wherever it might appear
 * (activity text and card values, names, addresses, answers), and errors are
 * serialised without the SQL parameters that drivers attach to them (those
 * are answers about a person). Log ids and event kinds, not people.
 */
import pino, { type Logger } from 'pino';

export const redactPaths = [
  'text',
  'value',
  'answers',
  'email',
  'address',
  'dateOfBirth',
  '*.text',
  '*.value',
  '*.answers',
  '*.email',
  '*.address',
  '*.dateOfBirth',
  // Names of people, not of errors (err.name must stay readable).
  'from.name',
  'user.name',
  'person.name',
  '*.from.name',
  '*.user.name',
  '*.person.name',
  '*.firstName',
  '*.lastName',
  'activity.from',
  'activity.recipient',
  'req.body',
];

const PARAM_FIELDS = ['params', 'parameters', 'args', 'query', 'body', 'request', 'response'];

/** Keeps what helps debugging (type, code, where) and drops what may carry personal data (query parameters, bodies). */
export function safeError(err: unknown): Record<string, unknown> {
  const plain = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plain)) {
    if (PARAM_FIELDS.includes(k)) continue;
    if (k === 'message' || k === 'stack') out[k] = stripParams(String(v));
    else out[k] = v;
  }
  // The driver's own error (code, constraint) usually sits in `cause`.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && typeof cause === 'object') {
    const { code, constraint_name: constraint, severity } = cause as Record<string, unknown>;
    out.cause = { type: (cause as Error).name, code, constraint, severity, message: stripParams(String((cause as Error).message ?? '')) };
  }
  return out;
}

function stripParams(s: string): string {
  // drizzle: "Failed query: …\nparams: a,b,c"
  return s.replace(/\nparams:[^\n]*/g, '\nparams: [redacted]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactPaths, censor: '[redacted]' }, serializers: { err: safeError }, base: { service: 'safeguard-desk' } },
    destination,
  );
}
