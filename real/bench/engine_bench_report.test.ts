import { describe, expect, it } from 'vitest';
import { type CaseRow, type EngineBenchReport, evaluateTargets, renderReport } from './engine_bench_report.ts';
import type { WorkloadName } from './engine_workloads.ts';

const result = (opsPerSec: number) => ({ ops: 1000, seconds: 1000 / opsPerSec, opsPerSec, cpuMicrosPerOp: 1e6 / opsPerSec, found: 0, wrong: 0 });

function row(workload: WorkloadName, valueBytes: number, inFlight: number, durable: boolean, ours: number, theirs: number): CaseRow {
  return { workload, valueBytes, inFlight, durable, ringkv: result(ours), classicLevel: result(theirs), ratio: ours / theirs, ratios: [ours / theirs], cpuRatio: ours / theirs };
}

function report(over: { fill1?: number; read64?: number; group?: number; fp?: number; p99?: number; queuedP99?: number; tieredWa?: number }): Omit<EngineBenchReport, 'targets'> {
  const shape = { writeAmplification: 0, diskBytes: 1, spaceAmplification: 1, engineSpaceAmplification: 1, tablesPerLevel: [1] };
  return {
    quick: false,
    seconds: 1,
    rounds: 1,
    cases: [
      row('fillrandom', 100, 1, false, over.fill1 ?? 300, 100),
      row('readrandom', 100, 1, false, 300, 100),
      row('fillrandom', 100, 64, false, 100, 100),
      row('readrandom', 100, 64, false, over.read64 ?? 100, 100),
      row('fillrandom', 1024, 64, true, over.group ?? 20_000, 2_000),
    ],
    compaction: [
      { strategy: 'leveled', keys: 1, valueBytes: 100, memtableBytes: 1 << 20, l1TargetBytes: 2 << 20, liveBytes: 1, atEnd: shape, settled: { ...shape, writeAmplification: 10 }, compactionsRun: 1, flushesRun: 1 },
      { strategy: 'tiered', keys: 1, valueBytes: 100, memtableBytes: 1 << 20, l1TargetBytes: 2 << 20, liveBytes: 1, atEnd: shape, settled: { ...shape, writeAmplification: over.tieredWa ?? 5 }, compactionsRun: 1, flushesRun: 1 },
    ],
    bloom: { checks: 1000, negatives: 990, falsePositives: 10, falsePositiveRate: over.fp ?? 0.012 },
    readLatency: {
      level0Tables: 4,
      idle: { samples: 10, p50Micros: 5, p99Micros: 10, maxMicros: 20 },
      compacting: { samples: 10, p50Micros: 5, p99Micros: 10 * (over.p99 ?? 2), maxMicros: 40 },
      p99Ratio: over.p99 ?? 2,
      queued: {
        idle: { samples: 10, p50Micros: 5, p99Micros: 10, maxMicros: 20 },
        compacting: { samples: 10, p50Micros: 50, p99Micros: over.queuedP99 ?? 2000, maxMicros: 4000 },
        p99Ratio: 100,
      },
      compactionStepMs: 1,
      compactionBytesWritten: 1,
    },
  };
}

describe('evaluateTargets', () => {
  it('passes every target exactly at its threshold', () => {
    const targets = evaluateTargets(report({}));
    expect(targets).toHaveLength(9);
    expect(targets.filter((t) => !t.pass).map((t) => t.name)).toEqual([]);
  });

  it('misses each target just past its threshold', () => {
    const cases: Array<[Parameters<typeof report>[0], string]> = [
      [{ fill1: 299 }, 'fillrandom 100 B x1 vs classic-level'],
      [{ read64: 99 }, 'readrandom 100 B x64 vs classic-level'],
      [{ group: 19_999 }, 'durable fillrandom 1 KiB x64 (group commit)'],
      [{ fp: 0.0121 }, 'bloom false-positive rate'],
      [{ p99: 2.01 }, 'readrandom p99 compacting / idle'],
      [{ queuedP99: 2001 }, 'queued readrandom p99 while compacting (us)'],
      [{ tieredWa: 10 }, 'write amplification tiered / leveled'],
    ];
    for (const [over, name] of cases) {
      const missed = evaluateTargets(report(over)).filter((t) => !t.pass);
      expect(missed.map((t) => t.name)).toEqual([name]);
    }
  });

  it('renders a PASS/MISS next to the figures that have a target', () => {
    const partial = report({ fill1: 100 });
    const text = renderReport({ ...partial, targets: evaluateTargets(partial) });
    expect(text).toContain('targets: 8 of 9 met');
    expect(text).toMatch(/fillrandom\s+100 B\s+1\s.*MISS \(>= 3x\)/);
    expect(text).toMatch(/readrandom\s+100 B\s+1\s.*PASS \(>= 3x\)/);
  });
});
