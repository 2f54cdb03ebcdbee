import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hlc } from '../versioning/hlc.ts';
import { type VersionedValue, compareWrites, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';
import { GetCore } from './get_core.ts';

const hlc = (wallMs: number, nodeId: string): Hlc => ({ wallMs, logical: 0, nodeId });
const lww = (wallMs: number, nodeId: string, tomb: boolean): VersionedValue => ({
  mode: 'lww',
  write: tomb ? tombstoneWrite(hlc(wallMs, nodeId)) : valueWrite(hlc(wallMs, nodeId), Uint8Array.of(wallMs & 0xff)),
});

type Answer = { node: number; kind: 'reply'; value: VersionedValue | null } | { node: number; kind: 'fail' };

const versionArb = fc.option(
  fc.record({ wall: fc.integer({ min: 1, max: 5 }), who: fc.constantFrom('a', 'b'), tomb: fc.boolean() }).map((v) => lww(v.wall, v.who, v.tomb)),
  { nil: null },
);

const answersArb = (n: number): fc.Arbitrary<Answer[]> =>
  fc.array(
    fc.oneof(
      fc.record({ node: fc.nat(n - 1), kind: fc.constant('reply' as const), value: versionArb }),
      fc.record({ node: fc.nat(n - 1), kind: fc.constant('fail' as const) }),
    ),
    { maxLength: 2 * n },
  );

/** The model: the newest write among replies, or null. */
function newest(values: (VersionedValue | null)[]): VersionedValue | null {
  let best: VersionedValue | null = null;
  for (const v of values) {
    if (v === null || v.mode !== 'lww') continue;
    if (best === null || (best.mode === 'lww' && compareWrites(v.write, best.write) > 0)) best = v;
  }
  return best;
}

describe('get core against a model of reply sets', () => {
  it('answers with the newest of the first R replies, and repairs exactly the replies that differ from the newest of all', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), answersArb(n))), ([n, r, answers]) => {
        const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
        const core = new GetCore(nodes, r);
        let outcome = core.outcome();
        const firsts = new Map<number, Answer>();
        for (const a of answers) {
          if (!firsts.has(a.node)) firsts.set(a.node, a);
          if (a.kind === 'reply') core.reply(nodes[a.node]!, a.value);
          else core.fail(nodes[a.node]!, 'corruption');
          if (outcome === null) {
            outcome = core.outcome();
            if (outcome !== null && outcome.ok) {
              // At the moment of answering: exactly R replies, merged to their newest.
              const replies = [...firsts.values()].filter((x) => x.kind === 'reply');
              expect(replies.length).toBe(r);
              const expected = newest(replies.map((x) => (x as { value: VersionedValue | null }).value));
              expect(outcome.merged).toEqual(expected);
            }
          }
        }
        if (outcome === null) {
          core.timeout();
          outcome = core.outcome();
          expect(core.finished).toBe(true);
        }
        const replies = [...firsts.entries()].filter(([, x]) => x.kind === 'reply') as [number, { value: VersionedValue | null }][];
        expect(outcome!.ok).toBe(replies.length >= r);
        if (!outcome!.ok) {
          expect(outcome!.error.required).toBe(r);
          expect(outcome!.error.definite).toBe(false);
        }
        const plan = core.repairPlan();
        const all = newest(replies.map(([, x]) => x.value));
        expect(plan.merged).toEqual(all);
        const differs = (v: VersionedValue | null): boolean =>
          !(v === all || (v !== null && all !== null && v.mode === 'lww' && all.mode === 'lww' && compareWrites(v.write, all.write) === 0));
        expect(plan.stale).toEqual(replies.filter(([, x]) => differs(x.value)).map(([i]) => nodes[i]).sort((a, b) => nodes.indexOf(a!) - nodes.indexOf(b!)));
        expect([...plan.stale, ...plan.current].sort()).toEqual(replies.map(([i]) => nodes[i]!).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('fails early when R replies have become impossible, naming the failure', () => {
    const core = new GetCore(['a', 'b', 'c'], 2);
    core.fail('a', 'corruption');
    expect(core.outcome()).toBeNull();
    core.fail('b', 'corruption');
    expect(core.outcome()).toMatchObject({ ok: false, error: { code: 'corruption', replied: 0, required: 2 } });
    expect(core.finished).toBe(false);
  });

  it('times out saying how many replied', () => {
    const core = new GetCore(['a', 'b', 'c'], 3);
    core.reply('a', null);
    core.timeout();
    const out = core.outcome();
    expect(out).toMatchObject({ ok: false, error: { code: 'timeout', replied: 1, required: 3 } });
    expect(out!.ok === false && out!.error.message).toContain('got 1 of 3');
  });

  it('merges a reply that does not count but answers only on R counted replies, and repairs towards it', () => {
    const core = new GetCore(['a', 'b', 'c'], 2);
    core.reply('a', lww(5, 'a', false), false); // newest, from a replica that may have lost writes
    core.reply('b', lww(3, 'b', false));
    expect(core.outcome()).toBeNull();
    expect(core.replied).toBe(1);
    core.reply('c', lww(4, 'c', false));
    expect(core.outcome()).toEqual({ ok: true, merged: lww(5, 'a', false), replied: 2 });
    // The uncounted replica holds the merge but is not one of the quorum that does.
    expect(core.repairPlan()).toEqual({ merged: lww(5, 'a', false), stale: ['b', 'c'], current: [] });
  });

  it('fails when only uncounted replies could still make R', () => {
    const core = new GetCore(['a', 'b', 'c'], 2);
    core.reply('a', null, false);
    core.reply('b', null);
    core.fail('c', 'corruption');
    const out = core.outcome();
    expect(out).toMatchObject({ ok: false, error: { replied: 1, required: 2, definite: false } });
    expect(out!.ok === false && out!.error.message).toContain('may have lost writes');
  });

  it('fails a read whose replicas hold versions of different modes, and repairs nothing', () => {
    const core = new GetCore(['a', 'b'], 2);
    core.reply('a', lww(1, 'a', false));
    core.reply('b', { mode: 'siblings', dvv: { entries: [] } });
    expect(core.outcome()).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(core.repairPlan()).toEqual({ merged: null, stale: [], current: [] });
  });
});
