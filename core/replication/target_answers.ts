// What GetCore and PutCore share: a request goes to a handful of distinct
// targets, and each target's answer state is kept by its index among them
// (arrays, not Maps and Sets per request: every client request makes one).

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';

/** The state of a target that has not answered yet; each core numbers its other states from 1. */
export const WAITING = 0;

/** Asserts that no node appears twice among `targets` (`what` names the request in the message). */
export function assertDistinctTargets(targets: readonly NodeId[], what: string): void {
  for (let i = 1; i < targets.length; i++) if (targets.lastIndexOf(targets[i]!, i - 1) >= 0) assert(false, `${what}: targets are distinct`);
}

/** The index of `node` among `targets` if its state is still WAITING, else -1 (an unknown node, or a second answer). */
export function waitingIndexOf(targets: readonly NodeId[], states: readonly number[], node: NodeId): number {
  const i = targets.indexOf(node);
  return i < 0 || states[i] !== WAITING ? -1 : i;
}
