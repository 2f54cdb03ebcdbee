// Size-tiered compaction (Cassandra's STCS, restricted to neighbours in age as
// RocksDB's universal compaction is).
//
// Every table is a sorted run in level 0, newest first, with disjoint sequence
// ranges. A compaction merges a window of consecutive runs into one run that
// takes their place, so runs stay ordered by age and a read can stop at the
// first run holding a key. Windows are chosen so that tables of similar size
// merge (each within [bucketLow, bucketHigh] times the window's mean size),
// at least minMerge and at most maxMerge of them; among such windows the one
// with the smallest mean size goes first (cheapest, and it keeps the count of
// small runs down). Two further triggers:
// - space: when the runs newer than the oldest add up to more than
//   maxSpaceAmplification times the oldest, everything merges into one run,
//   which bounds space amplification (and purges tombstones for good);
// - count: when there are slowdownRuns runs or more and no similar-size window
//   exists, the cheapest window of minMerge neighbours merges anyway.
//
// A tombstone may be purged only for keys no run older than the window covers:
// a merge of the oldest runs can purge everything.

import { assert } from '../../io/assert.ts';
import type { CompactionPicker, CompactionPlan, WritePressure } from './compaction_plan.ts';
import type { Version } from './version.ts';
import type { TableMeta } from './version_edit.ts';

export interface TieredOptions {
  minMerge: number;
  maxMerge: number;
  bucketLow: number;
  bucketHigh: number;
  maxSpaceAmplification: number;
  slowdownRuns: number;
  stopRuns: number;
}

export const DEFAULT_TIERED_OPTIONS: TieredOptions = {
  minMerge: 4,
  maxMerge: 32,
  bucketLow: 0.5,
  bucketHigh: 1.5,
  maxSpaceAmplification: 2,
  slowdownRuns: 20,
  stopRuns: 36,
};

export class TieredPicker implements CompactionPicker {
  readonly options: TieredOptions;

  constructor(options: Partial<TieredOptions> = {}) {
    this.options = { ...DEFAULT_TIERED_OPTIONS, ...options };
    const o = this.options;
    assert(o.minMerge >= 2 && o.maxMerge >= o.minMerge, 'tiered: 2 <= minMerge <= maxMerge');
    assert(o.bucketLow > 0 && o.bucketLow <= 1 && o.bucketHigh >= 1, 'tiered: bucket bounds around 1');
    assert(o.stopRuns >= o.slowdownRuns && o.slowdownRuns > o.minMerge, 'tiered: run triggers');
  }

  pick(version: Version, _compactPointers: ReadonlyArray<Uint8Array | undefined>, excluded: ReadonlySet<number>): CompactionPlan | undefined {
    assert(version.levels.every((tables, level) => level === 0 || tables.length === 0), 'tiered compaction uses level 0 only');
    const runs = version.levels[0]!;
    const usable = (from: number, to: number) => runs.slice(from, to).every((t) => !excluded.has(t.fileNumber));
    const n = runs.length;
    if (n < 2) return undefined;

    const oldest = runs[n - 1]!.fileBytes;
    let newer = 0;
    for (let i = 0; i < n - 1; i++) newer += runs[i]!.fileBytes;
    if (n >= this.options.minMerge && newer > this.options.maxSpaceAmplification * oldest && usable(0, n)) {
      return this.plan(runs, 0, n, `space amplification ${(1 + newer / oldest).toFixed(2)}`);
    }

    const similar = this.similarSizeWindow(runs, excluded);
    if (similar !== undefined) return this.plan(runs, similar.from, similar.to, `${similar.to - similar.from} similar-size runs`);

    if (n >= this.options.slowdownRuns) {
      const m = this.options.minMerge;
      let best: { from: number; bytes: number } | undefined;
      for (let from = 0; from + m <= n; from++) {
        if (!usable(from, from + m)) continue;
        const bytes = sumBytes(runs.slice(from, from + m));
        if (best === undefined || bytes < best.bytes) best = { from, bytes };
      }
      if (best !== undefined) return this.plan(runs, best.from, best.from + m, `${n} runs`);
    }
    return undefined;
  }

  /** The qualifying window [from, to) with the smallest mean size, if any. */
  private similarSizeWindow(runs: readonly TableMeta[], excluded: ReadonlySet<number>): { from: number; to: number } | undefined {
    const { minMerge, maxMerge, bucketLow, bucketHigh } = this.options;
    let best: { from: number; to: number; mean: number } | undefined;
    for (let from = 0; from < runs.length; from++) {
      // The longest qualifying window starting here.
      let longest: { to: number; mean: number } | undefined;
      let min = Infinity;
      let max = 0;
      let sum = 0;
      for (let to = from + 1; to <= runs.length && to - from <= maxMerge; to++) {
        const t = runs[to - 1]!;
        if (excluded.has(t.fileNumber)) break;
        min = Math.min(min, t.fileBytes);
        max = Math.max(max, t.fileBytes);
        sum += t.fileBytes;
        const mean = sum / (to - from);
        if (min < bucketLow * mean || max > bucketHigh * mean) break;
        if (to - from >= minMerge) longest = { to, mean };
      }
      if (longest !== undefined && (best === undefined || longest.mean < best.mean)) best = { from, ...longest };
    }
    return best === undefined ? undefined : { from: best.from, to: best.to };
  }

  private plan(runs: readonly TableMeta[], from: number, to: number, reason: string): CompactionPlan {
    return {
      reason,
      inputs: runs.slice(from, to).map((table) => ({ level: 0, table })),
      outputLevel: 0,
      trivialMove: false,
      targetFileBytes: Infinity,
      olderTables: runs.slice(to),
    };
  }

  debtBytes(version: Version): number {
    const plan = this.pick(version, [], new Set());
    return plan === undefined ? 0 : sumBytes(plan.inputs.map((i) => i.table));
  }

  writePressure(version: Version): WritePressure {
    const n = version.levels[0]!.length;
    if (n >= this.options.stopRuns) return 'stop';
    if (n >= this.options.slowdownRuns) return 'slowdown';
    return 'none';
  }
}

function sumBytes(tables: readonly TableMeta[]): number {
  let total = 0;
  for (const t of tables) total += t.fileBytes;
  return total;
}
