// The figures of the gossip-convergence and failure-detection scenarios,
// measured on clusters of gossipers alone (core/membership/
// gossip_measurements.testkit.ts), where a thousand nodes fit: rounds for a
// state change to reach every node at 10, 100 and 1,000 nodes; the time for
// every peer to suspect a crashed node with 1 s heartbeats; false suspicions
// in a steady state on jittery links. Printed so a run leaves them in its
// log. The 1,000-node convergence, detection at 100 nodes, more seeds and
// the hour of steady state run with RINGKV_LONG_TESTS=1 (npm run test:long);
// CI runs the rest.

import { describe, expect, it } from 'vitest';
import { countFalseSuspicions, measureFailureDetection, measureGossipConvergence, median } from '../core/membership/gossip_measurements.testkit.ts';

const LONG = process.env.RINGKV_LONG_TESTS === '1';
const show = (label: string, value: unknown): void => console.log(`[${label}] ${JSON.stringify(value)}`);
const round2 = (x: number): number => Math.round(x * 100) / 100;
const seeds = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('gossip-convergence: rounds for a status change to reach every node (target 2·log2 n in the median seed)', () => {
  for (const [nodes, runs, long] of [
    [10, LONG ? 200 : 20, false],
    [100, LONG ? 10 : 1, false],
    [1000, 1, true],
  ] as const) {
    it.skipIf(long && !LONG)(`${nodes} nodes over ${runs} seeds`, () => {
      const r = measureGossipConvergence(nodes, seeds(runs), { bootstrap: nodes >= 1000 ? 'preloaded' : 'seeds' });
      const rounds = r.runs.map((x) => x.changeRounds);
      show('gossip-convergence', {
        nodes,
        seeds: runs,
        medianRounds: round2(r.medianChangeRounds),
        maxRounds: round2(Math.max(...rounds)),
        targetRounds: round2(r.targetRounds),
        medianBootstrapRounds: r.medianBootstrapRounds === null ? null : round2(r.medianBootstrapRounds),
      });
      expect(r.medianChangeRounds).toBeLessThanOrEqual(r.targetRounds);
    }, 900_000);
  }
});

describe('failure-detection: every peer suspects a crash within 10 s (1 s heartbeats); no false suspicion in a steady state', () => {
  // 100 nodes (a minute of warm-up each) also run in core/membership/gossip_cluster.test.ts.
  for (const [nodes, runs, long] of [
    [10, LONG ? 100 : 5, false],
    [100, 5, true],
  ] as const) {
    it.skipIf(long && !LONG)(`${nodes} nodes over ${runs} seeds`, () => {
      const r = seeds(runs).map((seed) => measureFailureDetection(nodes, seed));
      const worst = Math.max(...r.map((x) => x.maxMs));
      show('failure-detection', { nodes, seeds: runs, worstMaxMs: Math.round(worst), medianOfMaxMs: Math.round(median(r.map((x) => x.maxMs))), medianMs: Math.round(median(r.map((x) => x.medianMs))) });
      expect(worst).toBeLessThanOrEqual(10_000);
    }, 900_000);
  }

  const steadyMs = LONG ? 3_600_000 : 300_000;
  it(`no false suspicion over ${steadyMs / 60_000} minutes of steady state (16 nodes, jitter, loss, drifting clocks, node stalls)`, () => {
    const r = countFalseSuspicions(16, 1, steadyMs, {}, 2000, LONG ? 120_000 : 30_000);
    show('failure-detection steady state', r);
    expect(r.stalls, 'stalls were injected').toBeGreaterThan(2);
    expect(r.falseSuspicions).toBe(0);
  }, 900_000);
});
