import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from './entry.ts';
import { LeveledPicker } from './compaction_picker_leveled.ts';
import { TieredPicker } from './compaction_picker_tiered.ts';
import type { CompactionPicker, CompactionPlan } from './compaction_plan.ts';
import { tableOverlaps, Version } from './version.ts';
import { NUM_LEVELS, type TableMeta } from './version_edit.ts';
import { applyEdit } from './version_set.ts';

const key = (n: number) => Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const num = (k: Uint8Array) => ((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0;

/**
 * A toy LSM tree for the pickers: tables are key ranges with sizes; a
 * compaction replaces its inputs by tables covering the union of their ranges
 * (cut into targetFileBytes pieces) whose sizes add up to the inputs' sizes.
 */
class ToyTree {
  version = Version.empty();
  pointers: Array<Uint8Array | undefined> = new Array(NUM_LEVELS).fill(undefined);
  nextFile = 1;
  nextSeq = 1;
  bytesCompacted = 0;

  table(lo: number, hi: number, bytes: number, seqs?: [number, number]): TableMeta {
    const [smallestSeq, largestSeq] = seqs ?? [this.nextSeq, (this.nextSeq += 10) - 1];
    return {
      fileNumber: this.nextFile++, fileBytes: Math.max(1, Math.round(bytes)), entryCount: 1, tombstoneCount: 0,
      smallestKey: key(lo), largestKey: key(hi), smallestSeq, largestSeq,
    };
  }

  flush(lo: number, hi: number, bytes: number): void {
    this.version = applyEdit(this.version, { addedTables: [{ level: 0, table: this.table(lo, hi, bytes) }] });
  }

  compact(plan: CompactionPlan): void {
    const tables = plan.inputs.map((i) => i.table);
    const lo = Math.min(...tables.map((t) => num(t.smallestKey)));
    const hi = Math.max(...tables.map((t) => num(t.largestKey)));
    const bytes = tables.reduce((s, t) => s + t.fileBytes, 0);
    const seqs: [number, number] = [Math.min(...tables.map((t) => t.smallestSeq)), Math.max(...tables.map((t) => t.largestSeq))];
    let outputs: TableMeta[];
    if (plan.trivialMove) {
      outputs = tables;
    } else {
      const pieces = Number.isFinite(plan.targetFileBytes) ? Math.max(1, Math.min(hi - lo + 1, Math.ceil(bytes / plan.targetFileBytes))) : 1;
      const width = Math.ceil((hi - lo + 1) / pieces);
      outputs = [];
      for (let a = lo; a <= hi; a += width) {
        const b = Math.min(hi, a + width - 1);
        outputs.push(this.table(a, b, (bytes * (b - a + 1)) / (hi - lo + 1), seqs));
      }
      this.bytesCompacted += bytes;
    }
    this.version = applyEdit(this.version, {
      deletedTables: plan.inputs.map((i) => ({ level: i.level, fileNumber: i.table.fileNumber })),
      addedTables: outputs.map((table) => ({ level: plan.outputLevel, table })),
    });
    if (plan.compactPointer) this.pointers[plan.compactPointer.level] = plan.compactPointer.key;
  }

  /** Compacts until the picker has nothing left; returns the number of compactions. */
  settle(picker: CompactionPicker, excluded: ReadonlySet<number> = new Set()): number {
    let n = 0;
    for (let plan = picker.pick(this.version, this.pointers, excluded); plan; plan = picker.pick(this.version, this.pointers, excluded)) {
      checkPlan(this.version, plan, excluded);
      this.compact(plan);
      expect(++n).toBeLessThan(10_000);
    }
    return n;
  }
}

/** Invariants every plan must meet, whatever the strategy. */
function checkPlan(version: Version, plan: CompactionPlan, excluded: ReadonlySet<number>): void {
  expect(plan.inputs.length).toBeGreaterThan(0);
  for (const { level, table } of plan.inputs) {
    expect(version.levels[level]).toContain(table);
    expect(excluded.has(table.fileNumber)).toBe(false);
  }
  const inputs = new Set(plan.inputs.map((i) => i.table));
  for (const t of plan.olderTables) expect(inputs.has(t)).toBe(false);
}

describe('leveled picker', () => {
  const small = { l0CompactionTrigger: 4, l0SlowdownTrigger: 8, l0StopTrigger: 12, l1TargetBytes: 1000, targetFileBytes: 300 };

  it('keeps every level within its target and level 0 below the trigger, with sound plans', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 50, max: 200 })), {
          minLength: 1,
          maxLength: 150,
        }),
        (flushes) => {
          const picker = new LeveledPicker(small);
          const tree = new ToyTree();
          for (const [lo, width, bytes] of flushes) {
            tree.flush(lo, lo + width, bytes);
            const v = tree.version;
            const plan = picker.pick(v, tree.pointers, new Set());
            if (plan) {
              checkPlan(v, plan, new Set());
              const src = Math.min(...plan.inputs.map((i) => i.level));
              expect(plan.outputLevel).toBe(src + 1);
              // Level 0: no level-0 table outside the plan overlaps what it takes from level 0.
              const l0 = plan.inputs.filter((i) => i.level === 0).map((i) => i.table);
              for (const t of v.levels[0]!) {
                if (l0.includes(t)) continue;
                for (const u of l0) expect(tableOverlaps(t, u.smallestKey, u.largestKey)).toBe(false);
              }
              // The output level's overlapping tables are all in, and every deeper overlapping table is "older".
              const lo = plan.inputs.map((i) => i.table.smallestKey).reduce((a, b) => (compareKeys(a, b) <= 0 ? a : b));
              const hi = plan.inputs.map((i) => i.table.largestKey).reduce((a, b) => (compareKeys(a, b) >= 0 ? a : b));
              const srcTables = plan.inputs.filter((i) => i.level === src).map((i) => i.table);
              const sLo = srcTables.map((t) => t.smallestKey).reduce((a, b) => (compareKeys(a, b) <= 0 ? a : b));
              const sHi = srcTables.map((t) => t.largestKey).reduce((a, b) => (compareKeys(a, b) >= 0 ? a : b));
              expect(plan.inputs.filter((i) => i.level === plan.outputLevel).map((i) => i.table)).toEqual(v.overlapping(plan.outputLevel, sLo, sHi));
              for (let d = plan.outputLevel + 1; d < NUM_LEVELS; d++) {
                for (const t of v.overlapping(d, lo, hi)) expect(plan.olderTables).toContain(t);
              }
              expect(plan.trivialMove).toBe(plan.inputs.length === 1);
            }
            tree.settle(picker);
            const scores = picker.scores(tree.version);
            for (const s of scores) expect(s).toBeLessThan(1);
            expect(picker.debtBytes(tree.version)).toBe(0);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('takes turns over the key space of a level (round robin)', () => {
    const picker = new LeveledPicker(small);
    const tree = new ToyTree();
    const l1: TableMeta[] = [];
    for (let i = 0; i < 6; i++) l1.push(tree.table(i * 10, i * 10 + 5, 400, [1, 1]));
    tree.version = applyEdit(tree.version, { addedTables: l1.map((table) => ({ level: 1, table })) });
    const picked: number[] = [];
    for (let i = 0; i < 8; i++) {
      const plan = picker.pick(tree.version, tree.pointers, new Set())!;
      picked.push(num(plan.inputs[0]!.table.smallestKey));
      tree.pointers[1] = plan.compactPointer!.key;
    }
    expect(picked).toEqual([0, 10, 20, 30, 40, 50, 0, 10]);
  });

  it('never picks an excluded table and picks around it where it can', () => {
    const picker = new LeveledPicker(small);
    const tree = new ToyTree();
    const l1 = [tree.table(0, 5, 900, [1, 1]), tree.table(10, 15, 900, [1, 1])];
    tree.version = applyEdit(tree.version, { addedTables: l1.map((table) => ({ level: 1, table })) });
    const plan = picker.pick(tree.version, tree.pointers, new Set([l1[0]!.fileNumber]))!;
    expect(plan.inputs.map((i) => i.table)).toEqual([l1[1]]);
    expect(picker.pick(tree.version, tree.pointers, new Set(l1.map((t) => t.fileNumber)))).toBeUndefined();
  });

  it('signals write pressure from the level-0 table count', () => {
    const picker = new LeveledPicker(small);
    const tree = new ToyTree();
    const seen: string[] = [];
    for (let i = 0; i < 13; i++) {
      tree.flush(0, 10, 10);
      seen.push(picker.writePressure(tree.version));
    }
    expect(seen.indexOf('slowdown')).toBe(7);
    expect(seen.indexOf('stop')).toBe(11);
  });
});

describe('tiered picker', () => {
  it('merges neighbouring similar-size runs, keeps few runs and bounded space', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 80, max: 120 }), { minLength: 1, maxLength: 300 }), (sizes) => {
        const picker = new TieredPicker();
        const tree = new ToyTree();
        let flushed = 0;
        for (const bytes of sizes) {
          tree.flush(0, 1000, bytes);
          flushed += bytes;
          const v = tree.version;
          const plan = picker.pick(v, [], new Set());
          if (plan) {
            checkPlan(v, plan, new Set());
            // A window of neighbours, and exactly the runs older than it count as older.
            const runs = v.levels[0]!;
            const idx = plan.inputs.map((i) => runs.indexOf(i.table));
            for (let k = 1; k < idx.length; k++) expect(idx[k]).toBe(idx[k - 1]! + 1);
            expect(plan.olderTables).toEqual(runs.slice(idx[idx.length - 1]! + 1));
          }
          tree.settle(picker);
          expect(tree.version.levels[0]!.length).toBeLessThan(picker.options.slowdownRuns);
          // Toy merges keep every byte, so this is the total; the point is the run count stays logarithmic.
          expect(tree.version.totalBytes()).toBeGreaterThanOrEqual(flushed - sizes.length);
        }
        const runs = tree.version.levels[0]!.length;
        expect(runs).toBeLessThanOrEqual(3 * Math.ceil(Math.log(sizes.length + 1) / Math.log(4)) + 4);
        // Each byte is rewritten about once per tier.
        expect(tree.bytesCompacted).toBeLessThanOrEqual(flushed * (Math.log(sizes.length + 1) / Math.log(4) + 3));
      }),
      { numRuns: 60 },
    );
  });

  it('merges everything when newer runs outweigh the oldest by the space factor', () => {
    const picker = new TieredPicker({ maxSpaceAmplification: 1 });
    const tree = new ToyTree();
    tree.flush(0, 10, 100);
    for (const b of [30, 30, 30, 30]) tree.flush(0, 10, b);
    const plan = picker.pick(tree.version, [], new Set())!;
    expect(plan.inputs).toHaveLength(5);
    expect(plan.olderTables).toEqual([]);
  });

  it('merges anyway when runs pile up, and never an excluded run', () => {
    const picker = new TieredPicker({ slowdownRuns: 6, stopRuns: 8, maxSpaceAmplification: 1e9 });
    const tree = new ToyTree();
    for (const b of [1, 4, 16, 64, 256, 1024]) tree.flush(0, 10, 100_000 / b);
    const runs = tree.version.levels[0]!;
    const plan = picker.pick(tree.version, [], new Set())!;
    expect(plan.inputs.map((i) => i.table)).toEqual(runs.slice(0, 4));
    const around = picker.pick(tree.version, [], new Set([runs[0]!.fileNumber]))!;
    expect(around.inputs.map((i) => i.table)).toEqual(runs.slice(1, 5));
    expect(picker.writePressure(tree.version)).toBe('slowdown');
  });
});
