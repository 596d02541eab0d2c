/** Personal-chat commands (DESIGN §10): case-insensitive, whole-message, anchored. */
import { parseReference } from '../domain/referral.js';

export type Command =
  | { readonly name: 'help' | 'refer' | 'drafts' | 'myReferrals' | 'whoami' | 'queue' | 'cases' | 'due' | 'settings' | 'approvals' | 'access' | 'reviews' }
  | { readonly name: 'case'; readonly reference: string }
  /** `stats` (this financial year) or `stats 2025`; the year is checked by the use-case, after who is asking. */
  | { readonly name: 'stats'; readonly year?: string }
  | { readonly name: 'unknown'; readonly text: string };

export function parseCommand(raw: string | undefined): Command {
  const text = (raw ?? '')
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const lower = text.toLowerCase().replace(/[.!?]+$/, '');
  switch (lower) {
    case 'help':
    case '?':
    case 'hi':
    case 'hello':
      return { name: 'help' };
    case 'refer':
    case 'new referral':
      return { name: 'refer' };
    case 'drafts':
    case 'my drafts':
      return { name: 'drafts' };
    case 'my referrals':
      return { name: 'myReferrals' };
    case 'whoami':
    case 'who am i':
      return { name: 'whoami' };
    case 'queue':
    case 'triage':
      return { name: 'queue' };
    case 'cases':
    case 'my cases':
      return { name: 'cases' };
    case 'due':
      return { name: 'due' };
    case 'settings':
      return { name: 'settings' };
    case 'approvals':
      return { name: 'approvals' };
    case 'reviews':
    case 'retention':
      return { name: 'reviews' };
    case 'access':
    case 'request access':
      return { name: 'access' };
  }
  const stats = /^stat(?:s|istics)(?:\s+(\S+))?$/i.exec(text.replace(/[.!?]+$/, ''));
  if (stats) return stats[1] === undefined ? { name: 'stats' } : { name: 'stats', year: stats[1].slice(0, 20) };
  const m = /^case\s+(\S+)$/i.exec(text);
  if (m) {
    const reference = parseReference(m[1]!);
    if (reference) return { name: 'case', reference };
  }
  return { name: 'unknown', text };
}
