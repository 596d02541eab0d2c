/**
 * Every card the bot can send, rendered from its template with realistic
 * data, checked the way Teams would read it: Adaptive Card 1.5, no unbound
 * `${…}`, every input labelled, ids unique, every Action.Execute has a verb,
 * every word from the catalogue.
 */
import { describe, expect, it } from 'vitest';
import { parseDirectory } from '../../src/domain/directory.js';
import { readFileSync } from 'node:fs';
import { demoDirectoryFile } from '../../src/paths.js';
import { translator, isMessageKey } from '../../src/i18n/catalogue.js';
import { preventPathway } from '../../src/forms/prevent.js';
import * as views from '../../src/bot/views.js';
import type { ViewContext } from '../../src/bot/views.js';
import type { Draft } from '../../src/db/repositories/drafts.js';
import type { Referral } from '../../src/db/repositories/referrals.js';
import { escapeMarkdown } from '../../src/bot/cards.js';
import type { Answers, FieldError } from '../../src/domain/forms.js';

const directory = parseDirectory(readFileSync(demoDirectoryFile, 'utf8'), 'demo');
const v: ViewContext = { t: translator('en-GB'), directory, today: '2026-11-28' };
const answers: Answers = {
  danger: { immediateDanger: 'no' },
  aboutYou: { referrerName: 'Alex', jobTitle: 'Teacher', organisation: 'School', sector: 'education', phone: '0207', relationship: 'Tutor' },
  aboutPerson: { firstName: 'Jo', lastName: 'Bloggs', dateOfBirth: '2011-05-04', gender: 'female', address: '1 Road', area: 'northgate' },
  concern: { whatSeenOrHeard: 'Saw [a link](http://x) and *bold*', whenAndWhere: 'Monday', concernType: 'incel', behaviours: ['withdrawal'], threatsOfViolence: 'unknown' },
  consent: { personAware: 'no', personConsented: 'notAsked' },
};
const draft: Draft = { id: '6f1c1d8e-1b7a-4c1e-9c43-0a2b3c4d5e6f', ownerAadObjectId: 'x', pathway: 'prevent', currentStep: 'concern', answers, status: 'open', createdAt: new Date(), updatedAt: new Date() };
const referral: Referral = { id: 'r', reference: 'PRV-2026-000042', pathway: 'prevent', draftId: draft.id, referrerAadObjectId: 'x', areaId: 'northgate', status: 'received', answers, submittedAt: new Date('2026-07-01T09:30:00Z') };
const actor = directory.actor('00000000-0000-0000-0000-0000000000021', 'Megan');
const errors: Record<string, FieldError> = { firstName: { key: 'error.field.required' }, approximateAge: { key: 'error.field.number', params: { min: 0, max: 120 } } };

const cards: Record<string, Record<string, unknown>> = {
  ...Object.fromEntries(
    preventPathway.steps.map((step) => [
      `step ${step.id}`,
      views.wizardCard(v, { kind: 'step', draft, pathway: preventPathway, step, values: { firstName: 'Jo', approximateAge: '14', behaviours: 'withdrawal,other' }, errors, fromReview: false }),
    ]),
  ),
  danger: views.wizardCard(v, { kind: 'danger', draft }),
  saved: views.wizardCard(v, { kind: 'saved', draft }),
  ack: views.wizardCard(v, { kind: 'submitted', referral, alreadySubmitted: false }),
  welcome: views.welcomeCard(v),
  help: views.helpCard(v, actor, 'blah'),
  whoami: views.whoamiCard(v, actor),
  error: views.errorCard(v, 'forbidden'),
  myReferrals: views.myReferralsCard(v, [referral]),
  myReferralsEmpty: views.myReferralsCard(v, []),
  drafts: views.draftsCard(v, [draft], () => preventPathway),
  draftsEmpty: views.draftsCard(v, [], () => preventPathway),
  notice: views.noticeCard(v, { reference: 'PRV-2026-000042', areaId: 'northgate', submittedAt: '2026-07-01T09:30:00Z' }),
  view: views.referralViewCard(v, preventPathway, referral),
};

type Node = Record<string, unknown>;
function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Node);
    Object.values(node).forEach((c) => walk(c, visit));
  }
}

describe.each(Object.entries(cards))('card %s', (_name, card) => {
  it('is an Adaptive Card 1.5 with nothing left unbound', () => {
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.5');
    expect(JSON.stringify(card)).not.toContain('${');
  });

  it('labels every input, keeps ids unique, gives every Execute a verb and a Submit fallback', () => {
    const ids: string[] = [];
    walk(card, (n) => {
      const type = String(n.type ?? '');
      if (type.startsWith('Input.')) {
        expect(typeof n.label, `input ${String(n.id)} label`).toBe('string');
        expect((n.label as string).length).toBeGreaterThan(0);
        ids.push(String(n.id));
      }
      if (type === 'Action.Execute') {
        expect(typeof n.verb).toBe('string');
        expect((n.fallback as Node | undefined)?.type).toBe('Action.Submit');
        expect(((n.fallback as Node).data as Node).verb).toBe(n.verb);
      }
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows no catalogue key where words should be', () => {
    walk(card, (n) => {
      for (const k of ['text', 'label', 'title', 'placeholder'] as const) {
        const s = n[k];
        if (typeof s === 'string') expect(isMessageKey(s), `${k}: ${s}`).toBe(false);
      }
    });
  });
});

describe('the catalogue and the form agree', () => {
  it('has a label for every field, a title for every step, a label for every choice', () => {
    const missing: string[] = [];
    for (const step of preventPathway.steps) {
      if (!isMessageKey(`step.${step.id}.title`)) missing.push(`step.${step.id}.title`);
      for (const f of step.fields) {
        if (!isMessageKey(`field.${step.id}.${f.id}.label`)) missing.push(`field.${step.id}.${f.id}.label`);
        for (const c of f.choices ?? []) if (!isMessageKey(`choice.${f.choiceSet}.${c}`)) missing.push(`choice.${f.choiceSet}.${c}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('text a user typed', () => {
  it('cannot smuggle links or emphasis into a card', () => {
    const text = JSON.stringify(cards.view);
    expect(text).not.toContain('[a link](http://x)');
    expect(escapeMarkdown('[a](b) *c* _d_\n- item\n1. one')).toBe('\\[a\\]\\(b\\) \\*c\\* \\_d\\_\n\\- item\n1\\. one');
  });

  it('stays as typed when it looks like a template binding', () => {
    const step = preventPathway.steps.find((s) => s.id === 'aboutPerson')!;
    const card = views.wizardCard(v, { kind: 'step', draft, pathway: preventPathway, step, values: { firstName: 'x ${y}', lastName: '${kind}', address: "${label} ${kind == 'text'}" }, errors: {}, fromReview: false });
    const values: Record<string, unknown> = {};
    walk(card, (n) => {
      if (typeof n.id === 'string' && String(n.type).startsWith('Input.')) values[n.id] = n.value;
    });
    expect(values).toMatchObject({ firstName: 'x ${y}', lastName: '${kind}', address: "${label} ${kind == 'text'}" });
  });
});
