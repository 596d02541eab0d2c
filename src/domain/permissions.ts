/** Who may do what (DESIGN §1). Pure: the clock comes in as `today` (YYYY-MM-DD, Europe/London). */
import type { Actor, Directory } from './directory.js';
import { DomainError } from './errors.js';

export function isTrained(actor: Actor, today: string): boolean {
  return actor.trainedUntil !== undefined && actor.trainedUntil >= today;
}

/**
 * The ids of an area's officers and supervisors whose training is in date
 * on `today` (with `supervisorsOnly`, its supervisors): who is told, who may
 * own an action, who hears of an escalation.
 */
export function trainedCaseWorkers(directory: Directory, areaId: string, today: string, o: { supervisorsOnly?: boolean } = {}): string[] {
  return directory
    .caseWorkersOf(areaId)
    .filter((p) => (!o.supervisorsOnly || p.roles.includes('supervisor')) && isTrained(directory.actor(p.aadObjectId, p.name), today))
    .map((p) => p.aadObjectId);
}

export function isCaseWorker(actor: Actor): boolean {
  return actor.roles.includes('officer') || actor.roles.includes('supervisor');
}

/**
 * May this actor see case data of `areaId`? Throws `forbidden` for the
 * wrong person or area, `training_expired` when training has lapsed.
 */
export function assertCanSeeArea(actor: Actor, areaId: string, today: string): void {
  if (!isCaseWorker(actor) || !actor.areas.includes(areaId)) throw new DomainError('forbidden');
  if (!isTrained(actor, today)) throw new DomainError('training_expired');
}

/** Aggregate statistics are for analysts and supervisors (DESIGN §1, §9); they hold no case data, so training is not checked. */
export function maySeeStatistics(actor: Actor): boolean {
  return actor.roles.includes('analyst') || actor.roles.includes('supervisor');
}
