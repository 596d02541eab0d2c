/**
 * Message catalogue keyed by locale. en-GB is complete; cy-GB (Welsh) is
 * added as its own file with the same keys, and until then falls back.
 */
import { enGB, type MessageKey } from './en-GB.js';

export type Locale = 'en-GB' | 'cy-GB';
export type { MessageKey };

const catalogues: Record<Locale, Partial<Record<MessageKey, string>>> = {
  'en-GB': enGB,
  'cy-GB': {},
};

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(enGB, key);
}

/** Picks our locale from a Teams locale string (e.g. "cy-GB", "en-US"). */
export function resolveLocale(teamsLocale: string | undefined): Locale {
  return teamsLocale?.toLowerCase().startsWith('cy') ? 'cy-GB' : 'en-GB';
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** A translator for one locale. Unknown parameters are left as `{name}` so a gap is visible in tests. */
export function translator(locale: Locale): Translate {
  const cat = catalogues[locale];
  return (key, params) => {
    const text: string = cat[key] ?? enGB[key];
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  };
}
