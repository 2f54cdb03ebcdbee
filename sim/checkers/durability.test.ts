import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CausalContext, type DvvSet, emptyDvv, join, sync } from '../../core/versioning/dotted_version_vector.ts';
import { type VersionedValue, type Write, mergeLww, tombstoneWrite, valueWrite, writeSiblings } from '../../core/versioning/versioned_value.ts';
import { valueBytes } from '../workload_value.ts';
import { OpLog, hlc, lwwTombstone, lwwValue, replicasOf } from './client_op_fixtures.ts';
import { checkDurability } from './durability.ts';
import { liveValues } from './final_state.ts';

const EPS = { lwwUncertaintyMs: 2 };

describe('durability checker, lww', () => {
  it('passes when the last write is the final version', () => {
    const log = new OpLog();
    log.write({ process: 1, call: 0, ret: 10 });
    const w2 = log.write({ process: 2, call: 20, ret: 30 });
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', [lwwValue(w2.value!, 25)])], EPS)).toEqual({ lostWrites: 0, violations: [] });
  });

  it('catches a later acknowledged write beaten by an earlier one (LWW under clock skew)', () => {
    const log = new OpLog();
    const w1 = log.write({ process: 1, call: 0, ret: 10, coordinator: 'n2' });
    log.write({ process: 2, call: 20, ret: 30 });
    const r = checkDurability(log.ops, [replicasOf('k', 'lww', [lwwValue(w1.value!, 5000, 'n2')])], EPS);
    expect(r.lostWrites).toBe(1);
    expect(r.violations[0]!.message).toMatch(/acknowledged #2 .* is lost: .* written by #1 .* completed 10 ms before #2 was called/);
  });

  it('lets writes closer than the clock uncertainty, concurrent writes and writes of unknown outcome win', () => {
    const log = new OpLog();
    const w1 = log.write({ process: 1, call: 0, ret: 10 });
    log.write({ process: 2, call: 11, ret: 30 });
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', [lwwValue(w1.value!, 1)])], EPS).lostWrites).toBe(0);
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', [lwwValue(w1.value!, 1)])], { lwwUncertaintyMs: 0 }).lostWrites).toBe(1);
    const log2 = new OpLog();
    const a = log2.write({ process: 1, call: 0, ret: 10 });
    log2.write({ process: 2, call: 5, ret: 15 });
    expect(checkDurability(log2.ops, [replicasOf('k', 'lww', [lwwValue(a.value!, 1)])], EPS).lostWrites).toBe(0);
    const log3 = new OpLog();
    const unknown = log3.write({ process: 1, call: 0, outcome: 'info' });
    log3.write({ process: 2, call: 100, ret: 110 });
    expect(checkDurability(log3.ops, [replicasOf('k', 'lww', [lwwValue(unknown.value!, 200)])], EPS).lostWrites).toBe(0);
  });

  it('a definitely failed write supersedes nothing', () => {
    const log = new OpLog();
    log.write({ process: 1, call: 0, ret: 10 });
    const failed = log.write({ process: 2, call: 20, ret: 30, outcome: 'fail' });
    const r = checkDurability(log.ops, [replicasOf('k', 'lww', [lwwValue(failed.value!, 25)])], EPS);
    expect(r.lostWrites).toBe(1);
    expect(r.violations[0]!.message).toContain('was reported as definitely failed');
  });

  it('a tombstone or a purged key stands for a later delete, not for an earlier one', () => {
    const log = new OpLog();
    log.write({ process: 1, call: 0, ret: 10 });
    log.delete({ process: 2, call: 20, ret: 30 });
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', [lwwTombstone(25)])], EPS).lostWrites).toBe(0);
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', [null, null])], EPS).lostWrites).toBe(0);
    const log2 = new OpLog();
    log2.delete({ process: 2, call: 0, ret: 5 });
    log2.write({ process: 1, call: 10, ret: 20 });
    const r = checkDurability(log2.ops, [replicasOf('k', 'lww', [lwwTombstone(25)])], EPS);
    expect(r.lostWrites).toBe(1);
    expect(r.violations[0]!.message).toContain('every delete completed before it was called');
    const log3 = new OpLog();
    log3.write({ process: 1, call: 10, ret: 20 });
    expect(checkDurability(log3.ops, [replicasOf('k', 'lww', [null, null, null])], EPS).violations[0]!.message).toContain('no client deleted this key');
  });

  it('catches an acknowledged delete undone by an older value', () => {
    const log = new OpLog();
    const w = log.write({ process: 1, call: 0, ret: 10 });
    log.delete({ process: 2, call: 20, ret: 30 });
    const r = checkDurability(log.ops, [replicasOf('k', 'lww', [lwwValue(w.value!, 9000)])], EPS);
    expect(r.lostWrites).toBe(1);
    expect(r.violations[0]!.message).toMatch(/acknowledged #2 \(p2 delete.* is undone/);
  });

  it('judges the merge of diverged replicas', () => {
    const log = new OpLog();
    const w1 = log.write({ process: 1, call: 0, ret: 10 });
    const w2 = log.write({ process: 2, call: 20, ret: 30 });
    const ok = [lwwValue(w1.value!, 5), lwwValue(w2.value!, 25)];
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', ok)], EPS).lostWrites).toBe(0);
    const skewed = [lwwValue(w1.value!, 50), lwwValue(w2.value!, 25)];
    expect(checkDurability(log.ops, [replicasOf('k', 'lww', skewed)], EPS).lostWrites).toBe(1);
  });

  it('a store stamping by true time never loses a write; one client clock far ahead loses the writes after it', () => {
    const arb = fc.record({
      ops: fc.array(fc.record({ kind: fc.constantFrom('write', 'write', 'delete'), process: fc.nat(3), gap: fc.integer({ min: 0, max: 20 }), took: fc.integer({ min: 1, max: 20 }) }), { minLength: 1, maxLength: 25 }),
      aheadProcess: fc.nat(3),
    });
    fc.assert(
      fc.property(arb, ({ ops, aheadProcess }) => {
        for (const aheadMs of [0, 10_000]) {
          // One process at a time: sequential operations, each stamped at its call by its client's clock.
          const log = new OpLog();
          let t = 0;
          let best: { stamp: number; op: (typeof log.ops)[number] } | null = null;
          for (const o of ops) {
            t += o.gap;
            const op = o.kind === 'write' ? log.write({ process: o.process, call: t, ret: t + o.took }) : log.delete({ process: o.process, call: t, ret: t + o.took });
            const stamp = t + (o.process === aheadProcess ? aheadMs : 0);
            if (best === null || stamp > best.stamp) best = { stamp, op };
            t += o.took;
          }
          const final: VersionedValue = best!.op.kind === 'write' ? lwwValue(best!.op.value!, best!.stamp) : lwwTombstone(best!.stamp);
          const r = checkDurability(log.ops, [replicasOf('k', 'lww', [final])], EPS);
          const last = log.ops[log.ops.length - 1]!;
          if (aheadMs === 0) expect(r.violations).toEqual([]);
          // The last operation is lost or undone when an earlier one of the fast client wins that completed more
          // than the uncertainty before it; a tombstone names no delete, so then every delete must have.
          else {
            const before = (op: (typeof log.ops)[number]) => op.ret! + EPS.lwwUncertaintyMs < last.call;
            const caught =
              best!.op.kind === 'write' ? best!.op !== last && before(best!.op) : last.kind === 'write' && log.ops.every((op) => op.kind !== 'delete' || before(op));
            if (caught) expect(r.lostWrites).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('durability checker, siblings', () => {
  /** A replica's state after writes with the given contexts, all coordinated by n1. */
  function siblingsOf(...writes: { value: string; context: CausalContext }[]): VersionedValue {
    let v: VersionedValue | null = null;
    writes.forEach((w, i) => (v = writeSiblings(v, w.context, valueWrite(hlc(i), valueBytes(w.value)), 'n1')));
    return v!;
  }

  it('passes when concurrent blind writes both stay as siblings, and catches one dropped', () => {
    const log = new OpLog();
    const a = log.write({ process: 1, call: 0, ret: 10 });
    const b = log.write({ process: 2, call: 0, ret: 10 });
    const both = siblingsOf({ value: a.value!, context: [] }, { value: b.value!, context: [] });
    expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [both])], EPS).lostWrites).toBe(0);
    const onlyB = siblingsOf({ value: b.value!, context: [] });
    const r = checkDurability(log.ops, [replicasOf('k', 'siblings', [onlyB])], EPS);
    expect(r.lostWrites).toBe(1);
    expect(r.violations[0]!.message).toContain('no write or delete carried a context that saw it');
  });

  it('a write whose context saw the siblings supersedes them, transitively; a superseded sibling coming back is caught', () => {
    const log = new OpLog();
    const a = log.write({ process: 1, call: 0, ret: 10 });
    const b = log.write({ process: 2, call: 0, ret: 10 });
    const r1 = log.read({ process: 3, call: 11, ret: 12, values: [a.value!, b.value!] });
    const c = log.write({ process: 3, call: 13, ret: 14, contextFrom: r1.index });
    const r2 = log.read({ process: 1, call: 15, ret: 16, values: [c.value!] });
    const d = log.write({ process: 1, call: 17, ret: 18, contextFrom: r2.index });
    const ab = siblingsOf({ value: a.value!, context: [] }, { value: b.value!, context: [] });
    const ctx1 = join((ab as { dvv: DvvSet<Write> }).dvv);
    const abc = writeSiblings(ab, ctx1, valueWrite(hlc(3), valueBytes(c.value!)), 'n1');
    const ctx2 = join((abc as { dvv: DvvSet<Write> }).dvv);
    const final = writeSiblings(abc, ctx2, valueWrite(hlc(4), valueBytes(d.value!)), 'n1');
    expect(liveValues(final)).toEqual([d.value]);
    expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [final])], EPS)).toEqual({ lostWrites: 0, violations: [] });
    // A replica that kept a next to d: a was seen by c's context, which d's context saw too.
    const resurrected = writeSiblings(final, [], valueWrite(hlc(0), valueBytes(a.value!)), 'n2');
    const r = checkDurability(log.ops, [replicasOf('k', 'siblings', [resurrected])], EPS);
    expect(r.lostWrites).toBe(1);
    expect(r.violations[0]!.message).toMatch(/acknowledged #4 .* is undone: its context saw/);
  });

  it('a delete with a context removes what it saw; the value coming back is caught', () => {
    const log = new OpLog();
    const a = log.write({ process: 1, call: 0, ret: 10 });
    const r1 = log.read({ process: 2, call: 11, ret: 12, values: [a.value!] });
    log.delete({ process: 2, call: 13, ret: 14, contextFrom: r1.index });
    const va = siblingsOf({ value: a.value!, context: [] });
    const deleted = writeSiblings(va, join((va as { dvv: DvvSet<Write> }).dvv), tombstoneWrite(hlc(5)), 'n1');
    expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [deleted])], EPS).lostWrites).toBe(0);
    expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [null])], EPS).lostWrites).toBe(0);
    expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [va])], EPS).lostWrites).toBe(1);
  });

  it('replicas merging dotted version vectors lose nothing, and dropping an acknowledged sibling is caught', () => {
    // A model run: writes (blind or with the context of an earlier read) land on one of three
    // replicas, reads read one replica, replicas sync at random; finally all sync.
    const step = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), replica: fc.nat(2), ctx: fc.option(fc.nat(50)) }),
      fc.record({ kind: fc.constant('delete' as const), replica: fc.nat(2), ctx: fc.nat(50) }),
      fc.record({ kind: fc.constant('read' as const), replica: fc.nat(2), ctx: fc.constant(null) }),
      fc.record({ kind: fc.constant('sync' as const), replica: fc.nat(2), ctx: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.nat(), (steps, pick) => {
        const log = new OpLog();
        const states: DvvSet<Write>[] = [emptyDvv(), emptyDvv(), emptyDvv()];
        const contexts = new Map<number, CausalContext>();
        const reads: number[] = [];
        let t = 0;
        for (const s of steps) {
          t += 2;
          if (s.kind === 'sync') {
            states[s.replica] = sync(states[s.replica]!, states[s.ctx]!, mergeLww);
            continue;
          }
          const state: VersionedValue = { mode: 'siblings', dvv: states[s.replica]! };
          if (s.kind === 'read') {
            const op = log.read({ process: 9, call: t, ret: t + 1, values: liveValues(state) });
            contexts.set(op.index, join(states[s.replica]!));
            reads.push(op.index);
            continue;
          }
          const from = s.ctx === null || reads.length === 0 ? null : reads[s.ctx % reads.length]!;
          const context = from === null ? [] : contexts.get(from)!;
          const op = s.kind === 'write' ? log.write({ process: 1, call: t, ret: t + 1, contextFrom: from }) : log.delete({ process: 1, call: t, ret: t + 1, contextFrom: from });
          const write = s.kind === 'write' ? valueWrite(hlc(t), valueBytes(op.value!)) : tombstoneWrite(hlc(t));
          states[s.replica] = (writeSiblings(state, context, write, `n${s.replica + 1}`) as { dvv: DvvSet<Write> }).dvv;
        }
        let all = states[0]!;
        for (const s of states) all = sync(all, s, mergeLww);
        const final: VersionedValue = { mode: 'siblings', dvv: all };
        expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [final, final, final])], EPS).violations).toEqual([]);
        // Drop one live sibling as a buggy replica might: the write is lost unless some context saw it.
        const live = all.entries.flatMap((e) => e.siblings.filter((x) => x.value.kind === 'value').map((x) => ({ node: e.node, counter: x.counter })));
        if (live.length === 0) return;
        const victim = live[pick % live.length]!;
        const entries = all.entries.map((e) => (e.node === victim.node ? { ...e, siblings: e.siblings.filter((x) => x.counter !== victim.counter) } : e));
        const damaged: VersionedValue = { mode: 'siblings', dvv: { entries } };
        expect(checkDurability(log.ops, [replicasOf('k', 'siblings', [damaged])], EPS).lostWrites).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
