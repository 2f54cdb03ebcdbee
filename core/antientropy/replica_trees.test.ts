// ReplicaTrees against a model: writes landing while a build scans in
// bounded steps (and ring changes restarting it) end with the same trees as
// a build from scratch over the final records; purged records leave.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../ring/ring.ts';
import { type VersionedValue, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';
import { ReplicaTrees, type RecordPager } from './replica_trees.ts';

const KS = { name: 'ks', replicationFactor: 2 };
const SHAPE = { leafBits: 8, fanoutBits: 4 };
const GRACE = 1000;

function lww(n: number, tombstone: boolean): VersionedValue {
  const hlc = { wallMs: n, logical: 0, nodeId: 'n1' };
  return { mode: 'lww', write: tombstone ? tombstoneWrite(hlc) : valueWrite(hlc, Uint8Array.of(n & 0xff)) };
}

const keyOf = (i: number): Uint8Array => Uint8Array.of(0x6b, i >> 8, i & 0xff);

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The store's records as a sorted model, paged like ReplicaStore.scan. */
class Model {
  readonly records = new Map<number, VersionedValue>();
  pager: RecordPager = (_ks, start, limit) => {
    const keys = [...this.records.keys()].map(keyOf).sort(compare).filter((k) => start === undefined || compare(k, start) >= 0);
    const page = keys.slice(0, limit);
    return { records: page.map((key) => ({ key, value: this.records.get((key[1]! << 8) | key[2]!)! })), more: keys.length > limit };
  };
}

function ringOf(nodes: number, tokensEach: number, salt: number): Ring {
  const entries: { token: bigint; node: string }[] = [];
  for (let n = 0; n < nodes; n++) for (let t = 0; t < tokensEach; t++) entries.push({ token: BigInt.asUintN(64, BigInt((n * 7919 + t * 104729 + salt) * 2654435761) << 20n), node: `n${n + 1}` });
  return Ring.fromEntries(entries);
}

function roots(trees: ReplicaTrees): string[] {
  return trees.slots().map((s) => `${s.tree.range.start}:${s.tree.range.end}:${[...s.tree.tree.root()].join(',')}:${s.tree.keyCount}`);
}

function buildAll(trees: ReplicaTrees, model: Model, now: number): void {
  for (let i = 0; i < 10_000 && trees.buildStep(model.pager, 3, now); i++);
  expect(trees.building).toBe(false);
}

type Op = { t: 'write'; key: number; n: number; tombstone: boolean } | { t: 'step' } | { t: 'ring' };

describe('replica trees', () => {
  it('writes during a stepped build (and ring changes) end like a build from scratch', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('write' as const), key: fc.integer({ min: 0, max: 60 }), n: fc.integer({ min: 1, max: 5000 }), tombstone: fc.boolean() }),
      fc.constant({ t: 'step' as const }),
      fc.constant({ t: 'ring' as const }),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.integer({ min: 0, max: 60 }), n: fc.integer({ min: 1, max: 5000 }) }), { maxLength: 40 }), fc.array(op, { maxLength: 80 }), (initial, ops: Op[]) => {
        const now = 100;
        const model = new Model();
        for (const r of initial) model.records.set(r.key, lww(r.n, false));
        let ring = ringOf(3, 4, 1);
        const live = new ReplicaTrees('n1', [KS], SHAPE, GRACE);
        live.setRing(ring);
        let rings = 0;
        for (const o of ops) {
          if (o.t === 'step') live.buildStep(model.pager, 3, now);
          else if (o.t === 'ring') {
            ring = ringOf(3, 4, 1 + (++rings % 3));
            live.setRing(ring);
          } else {
            const v = lww(o.n, o.tombstone);
            model.records.set(o.key, v);
            live.recordWritten(KS.name, keyOf(o.key), v, now);
          }
        }
        buildAll(live, model, now);
        const scratch = new ReplicaTrees('n1', [KS], SHAPE, GRACE);
        scratch.setRing(ring);
        buildAll(scratch, model, now);
        expect(roots(live)).toEqual(roots(scratch));
      }),
      { numRuns: 150 },
    );
  });

  it('takes a tombstone out at its wall time plus the grace period, and never puts in one already past it', () => {
    const model = new Model();
    const trees = new ReplicaTrees('n1', [KS], SHAPE, GRACE);
    trees.setRing(ringOf(1, 1, 1));
    buildAll(trees, model, 0);
    const count = () => trees.slots().reduce((n, s) => n + s.tree.keyCount, 0);
    trees.recordWritten(KS.name, keyOf(1), lww(500, true), 600);
    trees.recordWritten(KS.name, keyOf(2), lww(500, false), 600);
    expect(count()).toBe(2);
    expect(trees.sweep(1499)).toBe(0);
    expect(trees.sweep(1500)).toBe(1);
    expect(count()).toBe(1);
    trees.recordWritten(KS.name, keyOf(3), lww(100, true), 1500);
    expect(count()).toBe(1);
    const empty = new ReplicaTrees('n1', [KS], SHAPE, GRACE);
    empty.setRing(ringOf(1, 1, 1));
    model.records.set(2, lww(500, false));
    buildAll(empty, model, 0);
    expect(roots(trees)).toEqual(roots(empty));
  });

  it('keeps only the ranges this node replicates, and each with its other replicas', () => {
    const ring = ringOf(4, 3, 5);
    const trees = new ReplicaTrees('n2', [KS], SHAPE, GRACE);
    trees.setRing(ring);
    const expected = ring.ranges().filter((_, i) => ring.preferenceList(ring.tokenAt(i), 2).includes('n2'));
    expect(trees.slots().map((s) => s.tree.range)).toEqual(expected.map((r) => r.range));
    for (const s of trees.slots()) {
      expect(s.peers).toHaveLength(1);
      expect(s.peers).not.toContain('n2');
    }
  });
});
