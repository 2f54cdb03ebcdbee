// Every scenario over a range of seeds, against the real store node: the
// checks a scenario requires to pass pass on every seed, the checks it
// exists to see fail are caught on at least its share of seeds, and the
// coverage marks it names are hit. Then: the same scenario and seed give the
// same trace hash in a separate process.
//
// RINGKV_SCENARIO_SEEDS sets the seeds per scenario (default 200).

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RunResult, runScenario } from '../sim/run_scenario.ts';
import { CHECK_NAMES } from '../sim/scenario.ts';
import { storeNodeOpener } from '../sim/store_node_opener.ts';
import { SCENARIOS, findScenario } from './index.ts';

const ALL_SEEDS = Number(process.env.RINGKV_SCENARIO_SEEDS ?? 200);
const repoRoot = join(import.meta.dirname, '..');

function unmetSummary(r: RunResult): string {
  const why = r.error ?? r.violations.slice(0, 2).map((v) => `[${v.check}] ${v.key} ${v.message.split('\n')[0]}`).join('; ');
  return `seed ${r.seed}: ${JSON.stringify(r.checks)} ${why} (replay: npx ringkv sim --scenario ${r.scenario} --seed ${r.seed})`;
}

describe('scenarios', () => {
  it('are documented and well-formed', () => {
    for (const s of SCENARIOS) {
      expect(s.name).toMatch(/^[a-z][a-z-]*$/);
      expect(s.summary.length).toBeGreaterThan(20);
      const mustFail = CHECK_NAMES.filter((c) => s.expect[c] === 'fail');
      if (mustFail.length > 0) expect(s.minCatchRate, s.name).toBeGreaterThanOrEqual(0.5);
      if (!s.workload.groups.some((g) => g.linearizable)) expect(s.expect.linearizable, s.name).toBe('either');
    }
    expect(SCENARIOS.map((s) => s.name)).toEqual([
      'smoke',
      'partition-heal',
      'crash-restart',
      'disk-corruption',
      'hinted-handoff',
      'read-repair',
      'clock-skew-lww',
      'siblings-concurrent-writers',
      'strong-under-chaos',
      'eventual-not-linearizable',
      'anti-entropy-after-hints-expire',
      'no-anti-entropy-after-hints-expire',
      'node-join-under-load',
      'decommission-under-load',
      'replace-dead-node',
      'gossip-convergence',
      'failure-detection',
      'zombie-tombstone',
      'zombie-tombstone-unguarded',
      'rolling-restart',
      'range-regained',
      'range-regained-no-cleanup',
    ]);
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: meets its expectations on ${ALL_SEEDS} seeds`, () => {
      const unmet: string[] = [];
      const caught = new Map<string, number>();
      const marks = new Map<string, number>();
      let ops = 0;
      for (let seed = 1; seed <= ALL_SEEDS; seed++) {
        const { result } = runScenario(scenario, seed, { opener: storeNodeOpener });
        ops += result.ops.ok;
        if (!result.expectation.met) unmet.push(unmetSummary(result));
        for (const c of result.expectation.caught) caught.set(c, (caught.get(c) ?? 0) + 1);
        for (const [m, n] of Object.entries(result.marks)) marks.set(m, (marks.get(m) ?? 0) + n);
      }
      expect(unmet, `seeds not meeting the expectations of ${scenario.name}`).toEqual([]);
      expect(ops / ALL_SEEDS, 'acknowledged operations per seed').toBeGreaterThan(50);
      for (const check of CHECK_NAMES.filter((c) => scenario.expect[c] === 'fail')) {
        const rate = (caught.get(check) ?? 0) / ALL_SEEDS;
        expect(rate, `${check} caught on ${caught.get(check) ?? 0} of ${ALL_SEEDS} seeds`).toBeGreaterThanOrEqual(scenario.minCatchRate!);
      }
      for (const mark of scenario.requiredMarks ?? []) expect(marks.get(mark) ?? 0, `mark '${mark}'`).toBeGreaterThan(0);
    }, 600_000);
  }

  it('a separate process prints the same trace hash for the same scenario and seed', () => {
    const cases: { scenario: string; seed: number | string }[] = [
      { scenario: 'strong-under-chaos', seed: 7 },
      { scenario: 'siblings-concurrent-writers', seed: '3f9c2a1d8e' },
    ];
    const hashes = new Set<string>();
    for (const c of cases) {
      const here = runScenario(findScenario(c.scenario)!, c.seed, { opener: storeNodeOpener }).result;
      let out: string;
      try {
        out = execFileSync(process.execPath, [join(repoRoot, 'bin', 'ringkv.mjs'), 'sim', '--scenario', c.scenario, '--seed', String(c.seed), '--json'], {
          cwd: repoRoot,
          encoding: 'utf8',
          timeout: 120_000,
        });
      } catch (err) {
        // Exit code 1 (a check failed) still prints the result.
        out = (err as { stdout?: string }).stdout ?? '';
      }
      const there = JSON.parse(out.trim().split('\n').pop()!) as RunResult;
      expect(there.traceHash).toBe(here.traceHash);
      expect(there.events).toBe(here.events);
      expect(there.checks).toEqual(here.checks);
      expect(here.events).toBeGreaterThan(1000);
      hashes.add(here.traceHash);
    }
    expect(hashes.size).toBe(cases.length);
  }, 300_000);
});
