// The engine bench's smoke run: every figure present, sane and positive.
// Speed is never asserted (shared, noisy machines); correctness of what the
// stores returned is, since a fast wrong answer is not a benchmark result.

import { describe, expect, it, vi } from 'vitest';
import type { EngineBenchReport } from './engine_bench_report.ts';
import { renderReport } from './engine_bench_report.ts';
import { QUICK_CONFIG, runEngineBenchCommand } from './engine_bench.ts';

async function runQuickJson(): Promise<{ code: number; report: EngineBenchReport }> {
  const out: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await runEngineBenchCommand(['--quick', '--json']);
    return { code, report: JSON.parse(out.join('')) as EngineBenchReport };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('bench engine --quick --json', () => {
  it('measures every workload on both stores and reports every figure', async () => {
    const { code, report } = await runQuickJson();
    expect(code).toBe(0);
    expect(report.quick).toBe(true);

    const workloads = ['fillseq', 'fillrandom', 'overwrite', 'readrandom', 'readrandom-sync', 'readmissing', 'readseq', 'readwhilewriting', 'deleterandom'];
    for (const w of workloads) expect(report.cases.some((c) => c.workload === w)).toBe(true);
    for (const v of QUICK_CONFIG.valueSizes) {
      for (const f of QUICK_CONFIG.inFlights) {
        for (const durable of [false, true]) {
          for (const w of ['fillseq', 'fillrandom', 'overwrite', 'deleterandom']) {
            expect(report.cases.filter((c) => c.workload === w && c.valueBytes === v && c.inFlight === f && c.durable === durable)).toHaveLength(1);
          }
        }
        for (const w of ['readrandom', 'readmissing', 'readwhilewriting']) {
          expect(report.cases.filter((c) => c.workload === w && c.valueBytes === v && c.inFlight === f && !c.durable)).toHaveLength(1);
        }
      }
    }
    for (const c of report.cases) {
      for (const r of [c.ringkv, c.classicLevel]) {
        expect(r.ops).toBeGreaterThan(0);
        expect(r.seconds).toBeGreaterThan(0);
        expect(r.opsPerSec).toBeGreaterThan(0);
        expect(r.wrong).toBe(0);
        expect(Number.isFinite(r.cpuMicrosPerOp)).toBe(true);
        expect(r.cpuMicrosPerOp).toBeGreaterThanOrEqual(0);
      }
      expect(c.ratios).toHaveLength(report.rounds);
      expect(Number.isFinite(c.cpuRatio)).toBe(true);
      expect(c.ratio).toBeGreaterThan(0);
      expect(Number.isFinite(c.ratio)).toBe(true);
      // Both stores saw the same operations, so they must answer the same.
      expect(c.ringkv.found).toBe(c.classicLevel.found);
      if (c.workload === 'readrandom' || c.workload === 'readrandom-sync') expect(c.ringkv.found).toBe(c.ringkv.ops);
      if (c.workload === 'readmissing') expect(c.ringkv.found).toBe(0);
      if (c.workload === 'readseq') expect(c.ringkv.ops).toBe(QUICK_CONFIG.keysFor(c.valueBytes));
    }

    expect(report.compaction.map((c) => c.strategy)).toEqual(['leveled', 'tiered']);
    for (const c of report.compaction) {
      for (const s of [c.atEnd, c.settled]) {
        expect(s.writeAmplification).toBeGreaterThan(0);
        expect(s.spaceAmplification).toBeGreaterThan(0);
        expect(s.diskBytes).toBeGreaterThan(0);
        expect(s.tablesPerLevel.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }
    }

    expect(report.bloom.checks).toBeGreaterThan(0);
    expect(report.bloom.negatives + report.bloom.falsePositives).toBeLessThanOrEqual(report.bloom.checks);
    expect(report.bloom.falsePositiveRate).toBeGreaterThanOrEqual(0);
    expect(report.bloom.falsePositiveRate).toBeLessThanOrEqual(1);

    const lat = report.readLatency;
    for (const l of [lat.idle, lat.compacting, lat.queued.idle, lat.queued.compacting]) {
      expect(l.samples).toBeGreaterThan(0);
      expect(l.p50Micros).toBeGreaterThan(0);
      expect(l.p99Micros).toBeGreaterThanOrEqual(l.p50Micros);
      expect(l.maxMicros).toBeGreaterThanOrEqual(l.p99Micros);
    }
    expect(lat.p99Ratio).toBeGreaterThan(0);
    expect(lat.queued.p99Ratio).toBeGreaterThan(0);
    expect(lat.level0Tables).toBeGreaterThan(1);
    // Waiting for the loop's turn comes on top of the call itself.
    expect(lat.queued.compacting.maxMicros).toBeGreaterThanOrEqual(lat.compacting.maxMicros);

    expect(report.targets.map((t) => t.name)).toHaveLength(9);
    expect(lat.compactionStepMs).toBeGreaterThan(0);
    for (const t of report.targets) {
      expect(Number.isFinite(t.value)).toBe(true);
      expect(typeof t.pass).toBe('boolean');
    }

    const text = renderReport(report);
    for (const w of workloads) expect(text).toContain(w);
    expect(text).toMatch(/targets: \d of 9 met/);
    expect(text.match(/PASS|MISS/g)!.length).toBeGreaterThanOrEqual(9);
  });
});
