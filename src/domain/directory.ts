/**
 * Who is who: roles and areas (DESIGN §1, §10). Parsed strictly so a broken
 * directory file stops start-up with a message naming the problem.
 */
import { z } from 'zod';

export const roles = ['referrer', 'officer', 'supervisor', 'partner', 'analyst', 'admin'] as const;
export type Role = (typeof roles)[number];

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2027-03-31');

export const directorySchema = z
  .object({
    areas: z
      .array(z.object({ id: z.string().regex(/^[a-z0-9-]{1,40}$/, 'area ids are lower-case letters, digits and -'), name: z.string().min(1).max(100) }).strict())
      .min(1, 'at least one area is needed'),
    people: z.array(
      z
        .object({
          aadObjectId: z.string().min(1).max(100),
          name: z.string().min(1).max(200),
          email: z.string().email(),
          roles: z.array(z.enum(roles)).min(1),
          areas: z.array(z.string()).default([]),
          trainedUntil: isoDate.optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((d, ctx) => {
    const areaIds = new Set(d.areas.map((a) => a.id));
    if (areaIds.size !== d.areas.length) ctx.addIssue({ code: 'custom', message: 'area ids must be unique', path: ['areas'] });
    const seen = new Set<string>();
    d.people.forEach((p, i) => {
      if (seen.has(p.aadObjectId)) ctx.addIssue({ code: 'custom', message: `duplicate aadObjectId ${p.aadObjectId}`, path: ['people', i, 'aadObjectId'] });
      seen.add(p.aadObjectId);
      p.areas.forEach((a, j) => {
        if (!areaIds.has(a)) ctx.addIssue({ code: 'custom', message: `unknown area "${a}"`, path: ['people', i, 'areas', j] });
      });
      const caseRole = p.roles.includes('officer') || p.roles.includes('supervisor');
      if (caseRole && p.areas.length === 0) ctx.addIssue({ code: 'custom', message: 'officers and supervisors need at least one area', path: ['people', i, 'areas'] });
      if (caseRole && !p.trainedUntil) ctx.addIssue({ code: 'custom', message: 'officers and supervisors need trainedUntil', path: ['people', i, 'trainedUntil'] });
    });
  });

export type DirectoryData = z.infer<typeof directorySchema>;
export type Area = DirectoryData['areas'][number];
export type Person = DirectoryData['people'][number];

/** The person a turn acts for. Anyone in the tenant is at least a referrer. */
export interface Actor {
  readonly aadObjectId: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly areas: readonly string[];
  readonly trainedUntil?: string | undefined;
  /** False when the user is not in the directory (an ordinary referrer). */
  readonly listed: boolean;
}

export class Directory {
  private readonly byId: Map<string, Person>;
  constructor(readonly data: DirectoryData) {
    this.byId = new Map(data.people.map((p) => [p.aadObjectId, p]));
  }

  get areas(): readonly Area[] {
    return this.data.areas;
  }

  area(id: string): Area | undefined {
    return this.data.areas.find((a) => a.id === id);
  }

  /** Resolves a Teams user to an actor; `teamsName` is used for people not in the directory. */
  actor(aadObjectId: string, teamsName: string): Actor {
    const p = this.byId.get(aadObjectId);
    if (!p) return { aadObjectId, name: teamsName, roles: ['referrer'], areas: [], listed: false };
    const r = new Set<Role>(p.roles);
    r.add('referrer');
    return { aadObjectId, name: p.name, roles: [...r], areas: p.areas, trainedUntil: p.trainedUntil, listed: true };
  }

  person(aadObjectId: string): Person | undefined {
    return this.byId.get(aadObjectId);
  }

  /** Officers and supervisors of an area (training not checked here; see permissions). */
  caseWorkersOf(areaId: string): Person[] {
    return this.data.people.filter(
      (p) => p.areas.includes(areaId) && (p.roles.includes('officer') || p.roles.includes('supervisor')),
    );
  }
}

/** Parses directory JSON text; throws an Error whose message names each problem and where. */
export function parseDirectory(text: string, source: string): Directory {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Directory file ${source} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = directorySchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`Directory file ${source} is invalid: ${problems}`);
  }
  return new Directory(parsed.data);
}
