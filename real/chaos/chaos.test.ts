// The short form of the chaos test (the long one is `npm run test:chaos`):
// a 5-node cluster of real processes under ~15 s of kills, restarts and
// partitions must pass every check. Then, on the same run's data, the
// checkers must catch a lost write and a diverged replica planted into the
// final state, so a pass means something.

import { describe, expect, it } from 'vitest';
import { checkConvergence } from '../../sim/checkers/convergence.ts';
import { checkDurability } from '../../sim/checkers/durability.ts';
import type { FinalState, KeyReplicas } from '../../sim/checkers/final_state.ts';
import type { ClientOp } from '../../sim/client_op.ts';
import { valueWrite } from '../../core/versioning/versioned_value.ts';
import { valueBytes } from '../../sim/workload_value.ts';
import { runChaos } from './chaos_run.ts';
import { formatChaosSummary } from './chaos_summary.ts';

const DURATION_S = Number(process.env.RINGKV_CHAOS_DURATION_S ?? 15);
/** auto (namespaces when root with iproute2), netns or loopback. */
const MODE = (process.env.RINGKV_CHAOS_MODE ?? 'auto') as 'auto' | 'netns' | 'loopback';

describe('chaos on real processes (short form)', () => {
  it(`survives ${DURATION_S} s of kill -9, restarts and partitions with every check passing`, { timeout: 240_000 }, async () => {
    let judged: { ops: readonly ClientOp[]; state: FinalState; lwwUncertaintyMs: number } | null = null;
    const seed = Number(process.env.RINGKV_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const lines: string[] = [];
    const result = await runChaos({ durationMs: DURATION_S * 1000, seed, mode: MODE, report: (l) => lines.push(l), inspect: (j) => (judged = j) });
    const summary = formatChaosSummary(result);
    console.log(`${lines.filter((l) => !l.startsWith('  [n')).join('\n')}\n${summary}`);
    expect(result.problems, summary).toEqual([]);
    expect(result.violations, summary).toEqual([]);
    expect(result.passed, summary).toBe(true);
    const total = Object.values(result.ops).reduce((s, c) => s + c.ok, 0);
    expect(total, 'operations that succeeded').toBeGreaterThan(50);
    expect((result.faults.kill ?? 0) + (result.faults.isolate ?? 0) + (result.faults.split ?? 0) + (result.faults.unplug ?? 0)).toBeGreaterThan(0);

    // Negative controls on this run's own final state.
    const j = judged!;
    expect(j).not.toBeNull();
    // Two acknowledged writes to one key, the second called well after the first returned: if the
    // replicas end up holding the first (with the highest timestamp), the second is lost.
    const writes = j.ops.filter((op) => op.kind === 'write' && op.outcome === 'ok');
    let pair: [ClientOp, ClientOp] | null = null;
    for (const a of writes) {
      const b = writes.find((w) => w.key === a.key && w.call > a.ret! + j.lwwUncertaintyMs + 1);
      if (b !== undefined) {
        pair = [a, b];
        break;
      }
    }
    expect(pair, 'two acknowledged writes to one key far enough apart').not.toBeNull();
    const [first, acked] = pair!;
    const stale = { mode: 'lww' as const, write: valueWrite({ wallMs: 8_000_000_000_000, logical: 0, nodeId: 'n1' }, valueBytes(first.value!)) };
    const lost: KeyReplicas[] = j.state.keys.map((k) => (k.key !== acked.key ? k : { ...k, replicas: k.replicas.map((r) => ({ ...r, value: stale })) }));
    const durability = checkDurability(j.ops, lost, { lwwUncertaintyMs: j.lwwUncertaintyMs });
    expect(durability.lostWrites).toBeGreaterThan(0);
    // One replica forgets the key: the replicas no longer agree.
    const diverged = j.state.keys.map((k) => (k.key !== acked.key ? k : { ...k, replicas: k.replicas.map((r, i) => (i === 0 ? { ...r, value: null } : r)) }));
    expect(checkConvergence({ ...j.state, keys: diverged }).converged).toBe(false);
  });
});
