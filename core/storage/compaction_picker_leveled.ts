// Leveled compaction (LevelDB's picker).
//
// Level 0 holds flushed memtables, which overlap each other. Each level n >= 1
// is one sorted run with a size target: l1TargetBytes for level 1, times
// levelMultiplier (10) per level below. A level's score is its size over its
// target (level 0: table count over l0CompactionTrigger); the level with the
// highest score >= 1 is compacted into the next one:
//
// - level 0: the oldest table, widened to every level-0 table overlapping the
//   growing key range (a newer overlapping table left behind would sit above
//   older data moved down, and a skipped older one below newer data), plus the
//   level-1 tables overlapping that range;
// - level n: the first table after the level's compaction pointer (round
//   robin over the key space, so every key range gets its turn), plus the
//   overlapping tables of level n+1.
//
// A lone table with nothing to merge with below is moved by a manifest edit
// alone. Tombstones may be purged only for keys no deeper level covers.

import { assert } from '../../io/assert.ts';
import { compareKeys } from './entry.ts';
import type { CompactionInput, CompactionPicker, CompactionPlan, WritePressure } from './compaction_plan.ts';
import { keyRange, tableOverlaps, type Version } from './version.ts';
import { NUM_LEVELS, type TableMeta } from './version_edit.ts';

export interface LeveledOptions {
  l0CompactionTrigger: number;
  l0SlowdownTrigger: number;
  l0StopTrigger: number;
  l1TargetBytes: number;
  levelMultiplier: number;
  targetFileBytes: number;
}

export const DEFAULT_LEVELED_OPTIONS: LeveledOptions = {
  l0CompactionTrigger: 4,
  l0SlowdownTrigger: 8,
  l0StopTrigger: 12,
  l1TargetBytes: 10 * 1024 * 1024,
  levelMultiplier: 10,
  targetFileBytes: 2 * 1024 * 1024,
};

export class LeveledPicker implements CompactionPicker {
  readonly options: LeveledOptions;

  constructor(options: Partial<LeveledOptions> = {}) {
    this.options = { ...DEFAULT_LEVELED_OPTIONS, ...options };
    const o = this.options;
    assert(o.l0CompactionTrigger >= 1, 'l0CompactionTrigger >= 1');
    assert(o.l0SlowdownTrigger >= o.l0CompactionTrigger && o.l0StopTrigger >= o.l0SlowdownTrigger, 'l0 triggers must not decrease');
    assert(o.l1TargetBytes > 0 && o.levelMultiplier > 1 && o.targetFileBytes > 0, 'level sizes must be positive');
  }

  targetBytes(level: number): number {
    assert(level >= 1, 'level 0 is sized by table count');
    return this.options.l1TargetBytes * this.options.levelMultiplier ** (level - 1);
  }

  /** Compaction score per level (the last level has none: nothing lies below it). */
  scores(version: Version): number[] {
    const out = [version.levels[0]!.length / this.options.l0CompactionTrigger];
    for (let level = 1; level < NUM_LEVELS - 1; level++) out.push(version.levelBytes(level) / this.targetBytes(level));
    return out;
  }

  pick(version: Version, compactPointers: ReadonlyArray<Uint8Array | undefined>, excluded: ReadonlySet<number>): CompactionPlan | undefined {
    const candidates = this.scores(version)
      .map((score, level) => ({ score, level }))
      .filter((c) => c.score >= 1)
      .sort((a, b) => b.score - a.score || a.level - b.level);
    for (const { level, score } of candidates) {
      const plan = level === 0 ? this.pickLevel0(version, excluded) : this.pickLevelN(version, level, compactPointers[level], excluded);
      if (plan !== undefined) {
        plan.reason = `level ${level} score ${score.toFixed(2)}`;
        return plan;
      }
    }
    return undefined;
  }

  private pickLevel0(version: Version, excluded: ReadonlySet<number>): CompactionPlan | undefined {
    const l0 = version.levels[0]!;
    if (l0.length === 0) return undefined;
    const chosen = new Set<TableMeta>([l0[l0.length - 1]!]);
    for (let grew = true; grew; ) {
      grew = false;
      const { smallest, largest } = keyRange([...chosen]);
      for (const t of l0) {
        if (!chosen.has(t) && tableOverlaps(t, smallest, largest)) {
          chosen.add(t);
          grew = true;
        }
      }
    }
    return this.finish(version, 0, l0.filter((t) => chosen.has(t)), excluded);
  }

  private pickLevelN(
    version: Version,
    level: number,
    pointer: Uint8Array | undefined,
    excluded: ReadonlySet<number>,
  ): CompactionPlan | undefined {
    const tables = version.levels[level]!;
    if (tables.length === 0) return undefined;
    let start = 0;
    if (pointer !== undefined) {
      start = tables.findIndex((t) => compareKeys(t.largestKey, pointer) > 0);
      if (start < 0) start = 0;
    }
    for (let k = 0; k < tables.length; k++) {
      const plan = this.finish(version, level, [tables[(start + k) % tables.length]!], excluded);
      if (plan !== undefined) return plan;
    }
    return undefined;
  }

  private finish(version: Version, level: number, sources: TableMeta[], excluded: ReadonlySet<number>): CompactionPlan | undefined {
    const outputLevel = level + 1;
    const { smallest, largest } = keyRange(sources);
    const targets = version.overlapping(outputLevel, smallest, largest);
    const inputs: CompactionInput[] = [
      ...sources.map((table) => ({ level, table })),
      ...targets.map((table) => ({ level: outputLevel, table })),
    ];
    if (inputs.some((i) => excluded.has(i.table.fileNumber))) return undefined;
    const all = keyRange(inputs.map((i) => i.table));
    const olderTables: TableMeta[] = [];
    for (let deeper = outputLevel + 1; deeper < NUM_LEVELS; deeper++) {
      olderTables.push(...version.overlapping(deeper, all.smallest, all.largest));
    }
    return {
      reason: '',
      inputs,
      outputLevel,
      trivialMove: sources.length === 1 && targets.length === 0,
      targetFileBytes: this.options.targetFileBytes,
      olderTables,
      ...(level >= 1 ? { compactPointer: { level, key: largest } } : {}),
    };
  }

  debtBytes(version: Version): number {
    let debt = version.levels[0]!.length >= this.options.l0CompactionTrigger ? version.levelBytes(0) : 0;
    for (let level = 1; level < NUM_LEVELS - 1; level++) {
      debt += Math.max(0, version.levelBytes(level) - this.targetBytes(level));
    }
    return debt;
  }

  writePressure(version: Version): WritePressure {
    const n = version.levels[0]!.length;
    if (n >= this.options.l0StopTrigger) return 'stop';
    if (n >= this.options.l0SlowdownTrigger) return 'slowdown';
    return 'none';
  }
}
