// How the engine bench turns several rounds of the same workload into one
// figure. On a shared machine the load changes from second to second, so a
// single long run of one store followed by a single long run of the other
// compares two different machines. Instead the two stores alternate in short
// rounds (the same session, with the same seeds, on fresh directories), each
// round's ratio compares runs that sat next to each other in time, and the
// median of those ratios is reported, with their range beside it.

import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { assert } from '../../io/assert.ts';
import type { WorkloadResult } from './engine_workloads.ts';

/** One workload's results in every round, in round order, for both stores. */
export interface RoundResults {
  ringkv: WorkloadResult[];
  classicLevel: WorkloadResult[];
}

export interface CombinedRounds {
  /** The round whose ops/s is the median of the store's rounds (lower middle for an even count). */
  ringkv: WorkloadResult;
  classicLevel: WorkloadResult;
  /** Median of the per-round ratios (mean of the two middle ones for an even count). */
  ratio: number;
  /** ringkv / classic-level in each round, in round order. */
  ratios: number[];
  /**
   * Median over the rounds of classic-level's CPU time per op over ringkv's:
   * above 1, an op cost ringkv less work. Load moves it far less than the
   * ops/s ratio, so a ratio that swings while this holds is the machine.
   */
  cpuRatio: number;
}

export function median(xs: readonly number[]): number {
  assert(xs.length > 0, 'median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medianResult(results: readonly WorkloadResult[]): WorkloadResult {
  assert(results.length > 0, 'no rounds');
  const s = [...results].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return s[(s.length - 1) >> 1]!;
}

export function combineRounds(r: RoundResults): CombinedRounds {
  assert(r.ringkv.length === r.classicLevel.length && r.ringkv.length > 0, `rounds ${r.ringkv.length} vs ${r.classicLevel.length}`);
  const ratios = r.ringkv.map((ours, i) => ours.opsPerSec / r.classicLevel[i]!.opsPerSec);
  const cpuRatios = r.ringkv.map((ours, i) => r.classicLevel[i]!.cpuMicrosPerOp / Math.max(ours.cpuMicrosPerOp, 1e-9));
  return { ringkv: medianResult(r.ringkv), classicLevel: medianResult(r.classicLevel), ratio: median(ratios), ratios, cpuRatio: median(cpuRatios) };
}

/** Which store runs first in round `round` (0-based): they take turns, so neither always follows the other. */
export function ringkvFirst(round: number): boolean {
  return round % 2 === 0;
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection, so that garbage left by the previous workload
 * (or by the other store) is not collected inside the next one's timed
 * window. Both stores get it before every workload.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
