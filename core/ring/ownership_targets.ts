// What a node of a given weight should own. Primary ownership is simply
// proportional to weight. Replicated ownership is too, except that no node
// can hold more than every key once: with few nodes or a heavy one, shares
// above 1 are capped at 1 and the excess spread over the others by weight.

import { assert } from '../../io/assert.ts';

export function primaryTargets(weights: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let u = 0; u < weights.length; u++) total += weights[u]!;
  assert(total > 0, 'weights must be positive');
  return Float64Array.from({ length: weights.length }, (_, u) => weights[u]! / total);
}

/** Replicated share targets for m replicas per key; they sum to m. */
export function replicaTargets(weights: ArrayLike<number>, m: number): Float64Array {
  assert(Number.isInteger(m) && m >= 1 && m <= weights.length, `${m} replicas for ${weights.length} nodes`);
  const out = new Float64Array(weights.length);
  const capped = new Uint8Array(weights.length);
  // Each round caps at least one more node, so at most one round per node.
  for (;;) {
    let free = m;
    let weightLeft = 0;
    for (let u = 0; u < weights.length; u++) {
      if (capped[u]) free -= 1;
      else weightLeft += weights[u]!;
    }
    let changed = false;
    for (let u = 0; u < weights.length; u++) {
      if (capped[u]) {
        out[u] = 1;
        continue;
      }
      out[u] = (free * weights[u]!) / weightLeft;
      if (out[u]! > 1) {
        capped[u] = 1;
        changed = true;
      }
    }
    if (!changed) return out;
  }
}
