/** Reading cards the way a person would: their text, inputs and buttons. */
import type { Card } from './harness.js';

type Node = Record<string, unknown>;

function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Node);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

/** All visible text of a card (TextBlocks, labels, titles), joined by newlines. */
export function cardText(card: Card): string {
  const out: string[] = [];
  walk(card, (n) => {
    if (n.type === 'TextBlock' && typeof n.text === 'string') out.push(n.text);
    if (n.type === 'FactSet' && Array.isArray(n.facts)) for (const f of n.facts as Node[]) out.push(`${String(f.title)}: ${String(f.value)}`);
    if (typeof n.label === 'string') out.push(n.label);
    if (typeof n.title === 'string' && typeof n.type === 'string' && String(n.type).startsWith('Action.')) out.push(`[${n.title}]`);
  });
  return out.join('\n');
}

export interface CardAction {
  readonly type: string;
  readonly title: string;
  readonly verb?: string;
  readonly data?: Record<string, unknown>;
}

/** Every Action.Execute / Action.Submit on the card (fallbacks excluded). */
export function cardActions(card: Card): CardAction[] {
  const out: CardAction[] = [];
  walk(card, (n) => {
    if ((n.type === 'Action.Execute' || n.type === 'Action.Submit') && typeof n.title === 'string') {
      out.push({ type: n.type, title: n.title, verb: n.verb as string | undefined, data: n.data as Record<string, unknown> | undefined });
    }
  });
  // Fallback Action.Submits repeat an Execute's title: keep the Execute.
  return out.filter((a, i) => !(a.type === 'Action.Submit' && out.some((b, j) => j !== i && b.type === 'Action.Execute' && b.title === a.title)));
}

/** The action whose title matches. */
export function action(card: Card, title: string | RegExp): CardAction {
  const found = cardActions(card).find((a) => (typeof title === 'string' ? a.title === title : title.test(a.title)));
  if (!found) throw new Error(`no action "${String(title)}" on card:\n${cardText(card)}`);
  return found;
}

export interface CardInput {
  readonly id: string;
  readonly type: string;
  readonly label?: string;
  readonly value?: unknown;
  readonly choices?: Array<{ title: string; value: string }>;
}

export function cardInputs(card: Card): CardInput[] {
  const out: CardInput[] = [];
  walk(card, (n) => {
    if (typeof n.type === 'string' && n.type.startsWith('Input.')) out.push(n as unknown as CardInput);
  });
  return out;
}

/** The message shown under an input (a red TextBlock after it, before the next input, in the same container), if any. */
export function fieldErrors(card: Card): Record<string, string> {
  const errors: Record<string, string> = {};
  walk(card, (n) => {
    const items = n.items as Node[] | undefined;
    if (!Array.isArray(items)) return;
    let input: string | undefined;
    for (const item of items) {
      if (typeof item.type === 'string' && item.type.startsWith('Input.')) input = item.id as string;
      else if (input && item.type === 'TextBlock' && item.color === 'Attention') errors[input] = item.text as string;
    }
  });
  return errors;
}
