/**
 * pino JSON logs. Personal data is redacted by path wherever it might appear
 * (activity text and card values, names, addresses, answers), and errors are
 * serialised without the SQL parameters that drivers attach to them (those
 * are answers about a person). Log ids and event kinds, not people.
 */
import pino, { type Logger } from 'pino';

/**
 * Keys whose values are personal data wherever they sit: the free text,
 * names, addresses, contact details and dates of the forms (every text,
 * textarea and date field of the pathway, case and approval forms — a test
 * checks none is missing), stored answers and chronology data, and the
 * bodies of activities (message `text`, invoke `value`).
 */
const personalKeys = [
  // Bodies: what was typed, pressed or stored.
  'text', 'value', 'answers', 'data', 'values', 'body',
  // Names, dates of birth, addresses, contact details.
  'firstName', 'lastName', 'referrerName', 'parentCarerName', 'dateOfBirth', 'address', 'newAddress', 'postcode', 'phone', 'email',
  // About the referrer and the person.
  'jobTitle', 'organisation', 'relationship', 'schoolOrEmployer', 'firstLanguage',
  // The concern and the officers' narrative.
  'whatSeenOrHeard', 'whenAndWhere', 'onlineActivity', 'contactsOfConcern', 'discussionsHeld', 'agencyDetails',
  'rationale', 'signpostedTo', 'note', 'notes', 'decisionNote', 'correctionReason', 'provider', 'title', 'reason',
  'purposeDetail', 'justification', 'reference',
  // Dates of the case record.
  'decidedOn', 'assessedOn', 'startOn', 'endOn', 'dueOn', 'madeOn',
];

/**
 * Top-level keys the service itself logs with operational values (a refusal
 * code such as "expired"): redacted only when nested, where they could be a
 * form's answer.
 */
export const operationalKeys = ['reason'];

export const redactPaths = [
  ...personalKeys.filter((k) => !operationalKeys.includes(k)),
  ...personalKeys.map((k) => `*.${k}`),
  // Names of people, not of errors (err.name must stay readable).
  'from.name',
  'user.name',
  'person.name',
  'recipient.name',
  '*.from.name',
  '*.user.name',
  '*.person.name',
  '*.recipient.name',
  // An activity or a request as a whole carries the user's name and what they typed.
  'activity',
  '*.activity',
  'req.body',
];

/** Error properties that carry what a query or request was about: its parameters, bodies, the failing row. */
const DATA_FIELDS = ['params', 'parameters', 'args', 'query', 'body', 'request', 'response', 'detail', 'where', 'internal_query', 'internalQuery', 'issues', 'aggregateErrors'];

/**
 * Keeps what helps debugging (type, code, constraint, where in the code) and
 * drops what may carry personal data: query parameters, bodies, the failing
 * row (`detail`), values a driver quotes in its message (`invalid input
 * syntax for type date: "…"`). A DomainError is logged as its code (its
 * message may quote what was typed); a validation error (zod) as its issue
 * codes and paths, never the values it received.
 */
export function safeError(err: unknown): Record<string, unknown> {
  const plain = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const issues = (err as { issues?: unknown } | null)?.issues;
  const isDomain = (err as { name?: unknown } | null)?.name === 'DomainError' && typeof (err as { code?: unknown }).code === 'string';
  let message = String(plain.message ?? '');
  if (isDomain) message = String((err as { code: string }).code);
  else if (Array.isArray(issues)) message = issues.map((i: { code?: unknown; path?: unknown }) => `${String(i?.code)} at ${Array.isArray(i?.path) ? i.path.join('.') || '(root)' : '?'}`).join('; ');
  else message = redactQuoted(stripParams(message));
  for (const [k, v] of Object.entries(plain)) {
    if (DATA_FIELDS.includes(k)) continue;
    if (k === 'message') out[k] = message;
    else if (k === 'stack') out[k] = stackWith(String(v), String(plain.type ?? 'Error'), message);
    else out[k] = v;
  }
  const errors = (err as { errors?: unknown } | null)?.errors;
  if (Array.isArray(issues)) out.issues = issues.map((i: { code?: unknown; path?: unknown }) => ({ code: i?.code, path: i?.path }));
  // An AggregateError's errors, each made safe the same way (zod's `errors` are its issues, kept above).
  else if (Array.isArray(errors)) out.aggregateErrors = errors.map((e: unknown) => safeError(e));
  // The driver's own error (code, constraint) usually sits in `cause`.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && typeof cause === 'object') {
    const { code, constraint_name: constraintName, constraint, severity } = cause as Record<string, unknown>;
    out.cause = { type: (cause as Error).name, code, constraint: constraintName ?? constraint, severity, message: redactQuoted(stripParams(String((cause as Error).message ?? ''))) };
  }
  return out;
}

function stripParams(s: string): string {
  // drizzle: "Failed query: …\nparams: a,b,c"
  return s.replace(/\nparams:[^\n]*/g, '\nparams: [redacted]');
}

/** PostgreSQL quotes the offending value after a colon (`invalid input syntax for type uuid: "…"`); SQL text never has `: "` after "Failed query:". */
function redactQuoted(s: string): string {
  return s.replace(/: "(?:[^"\\]|\\.)*"/g, ': "[redacted]"');
}

/**
 * The stack's frames under a first line holding the safe message only. The
 * original repeats the message (and, after "caused by:", each cause's): of
 * those only the error types are kept.
 */
function stackWith(stack: string, type: string, message: string): string {
  const out = [`${type}: ${message}`];
  for (const line of stack.split('\n').slice(1)) {
    if (/^\s+at /.test(line)) out.push(line);
    else if (line.startsWith('caused by: ')) out.push(`caused by: ${line.slice('caused by: '.length).split(':')[0]}`);
  }
  return out.join('\n');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactPaths, censor: '[redacted]' }, serializers: { err: safeError }, base: { service: 'safeguard-desk' } },
    destination,
  );
}
