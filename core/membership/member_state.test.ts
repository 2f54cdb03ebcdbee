import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEMBER_STATUSES, type MemberDelta, MemberState, type MemberStatus, mergeMember, removalState } from './member_state.ts';

// ---------------------------------------------------------------------------
// A writer's history: a node writes its state op by op, in one or more
// generations (a restart starts a new one from scratch). A snapshot is taken
// after every op, keyed by (generation, maxVersion): since a state that is
// complete up to version m holds exactly the latest write of each field at or
// below m, any state a receiver reaches must equal the writer's snapshot at
// the receiver's (generation, maxVersion). That is the property merging must
// keep, whatever deltas arrive, in whatever order, from whatever version.

type Op =
  | { kind: 'beat' }
  | { kind: 'status'; status: MemberStatus }
  | { kind: 'tokens'; tokens: bigint[] }
  | { kind: 'load'; load: number }
  | { kind: 'app'; key: string; value: string }
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'beat' }) },
  { weight: 2, arbitrary: fc.constantFrom(...MEMBER_STATUSES).map((status): Op => ({ kind: 'status', status })) },
  { weight: 1, arbitrary: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 4 }).map((tokens): Op => ({ kind: 'tokens', tokens })) },
  { weight: 1, arbitrary: fc.nat(1000).map((load): Op => ({ kind: 'load', load })) },
  { weight: 2, arbitrary: fc.record({ key: fc.constantFrom('dc', 'rack', 'schema'), value: fc.string({ maxLength: 3 }) }).map((r): Op => ({ kind: 'app', ...r })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'restart' }) },
);

function writeHistory(ops: readonly Op[]): Map<string, MemberState> {
  const key = (s: MemberState): string => `${s.generation}/${s.maxVersion}`;
  let state = MemberState.initial('x', 1, { status: 'joining', tokens: [], load: 0 });
  const snapshots = new Map<string, MemberState>([[key(state), state.clone()]]);
  for (const op of ops) {
    switch (op.kind) {
      case 'beat':
        state.heartbeatTick();
        break;
      case 'status':
        state.putStatus(op.status);
        break;
      case 'tokens':
        state.putTokens(op.tokens);
        break;
      case 'load':
        state.putLoad(op.load);
        break;
      case 'app':
        state.putApp(op.key, op.value);
        break;
      case 'restart':
        state = MemberState.initial('x', state.generation + 1, { status: 'joining', tokens: [1n], load: 0 });
        break;
    }
    snapshots.set(key(state), state.clone());
  }
  return snapshots;
}

describe('MemberState', () => {
  it('starts a generation with its fields at versions 1..3 and the heartbeat above them', () => {
    const s = MemberState.initial('a', 7, { status: 'normal', tokens: [5n, 9n], load: 12, app: new Map([['dc', 'east']]) });
    expect(s.generation).toBe(7);
    expect(s.maxVersion).toBe(5);
    expect(s.heartbeat).toBe(5);
    expect(s.deltaAbove(0)).toEqual({
      nodeId: 'a',
      generation: 7,
      from: 0,
      heartbeat: 5,
      status: { value: 'normal', version: 1 },
      tokens: { value: [5n, 9n], version: 2 },
      load: { value: 12, version: 3 },
      app: [{ key: 'dc', value: 'east', version: 4 }],
    });
    s.putStatus('leaving');
    expect(s.deltaAbove(5)).toEqual({ nodeId: 'a', generation: 7, from: 5, heartbeat: 5, status: { value: 'leaving', version: 6 }, app: [] });
  });

  it('rebuilds exactly from a whole-state delta, and refuses a delta that is not one', () => {
    const s = MemberState.initial('a', 3, { status: 'normal', tokens: [1n], load: 0, app: new Map([['k', 'v']]) });
    s.heartbeatTick();
    expect(MemberState.fromDelta(s.deltaAbove(0))!.equals(s)).toBe(true);
    expect(MemberState.fromDelta(s.deltaAbove(1))).toBeNull();
    expect(mergeMember(undefined, s.deltaAbove(2))).toEqual({ kind: 'ignored', reason: 'incomplete' });
  });

  it('rejects invalid writes', () => {
    const s = MemberState.initial('a', 0, { status: 'normal', tokens: [], load: 0 });
    expect(() => s.putTokens([1n << 64n])).toThrow(/outside/);
    expect(() => s.putTokens([-1n])).toThrow(/outside/);
    expect(() => s.putLoad(Number.NaN)).toThrow(/load/);
    expect(() => s.putApp('', 'v')).toThrow(/key/);
    expect(() => s.putApp('k', 'x'.repeat(5000))).toThrow(/value/);
    expect(() => MemberState.initial('', 0, { status: 'normal', tokens: [], load: 0 })).toThrow(/node id/);
  });

  it('a higher generation replaces everything, a lower one is ignored, whatever the versions', () => {
    const old = MemberState.initial('a', 1, { status: 'normal', tokens: [1n], load: 0, app: new Map([['only-old', 'x']]) });
    for (let i = 0; i < 100; i++) old.heartbeatTick();
    const fresh = MemberState.initial('a', 2, { status: 'joining', tokens: [2n], load: 0 });
    const r = mergeMember(old.clone(), fresh.deltaAbove(0));
    expect(r.kind).toBe('replaced');
    if (r.kind !== 'replaced') return;
    expect(r.state.equals(fresh)).toBe(true);
    expect(r.state.appState('only-old')).toBeUndefined();
    expect(r).toMatchObject({ statusChanged: true, tokensChanged: true });
    expect(mergeMember(fresh.clone(), old.deltaAbove(0))).toEqual({ kind: 'ignored', reason: 'stale' });
  });

  it('refuses a delta that would skip versions (a gap), leaving the state as it was', () => {
    const writer = MemberState.initial('a', 1, { status: 'normal', tokens: [], load: 0 });
    const receiver = writer.clone();
    writer.putApp('k', 'v1');
    const missed = writer.maxVersion;
    writer.heartbeatTick();
    writer.putStatus('leaving');
    const before = receiver.clone();
    expect(mergeMember(receiver, writer.deltaAbove(missed))).toEqual({ kind: 'ignored', reason: 'gap' });
    expect(receiver.equals(before)).toBe(true);
    expect(mergeMember(receiver, writer.deltaAbove(receiver.maxVersion)).kind).toBe('updated');
    expect(receiver.equals(writer)).toBe(true);
  });

  it('property: whatever deltas arrive in whatever order, a receiver equals the writer at its own (generation, maxVersion)', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 30 }),
        (ops, deliveries) => {
          const snapshots = writeHistory(ops);
          const all = [...snapshots.values()];
          let receiver: MemberState | undefined;
          for (const [which, fromPick, asked] of deliveries) {
            const source = all[which % all.length]!;
            // Either what a digest would ask for, or any version at all (stale or replayed messages).
            const from = asked && receiver !== undefined && receiver.generation === source.generation ? Math.min(receiver.maxVersion, source.maxVersion) : fromPick % (source.maxVersion + 1);
            const r = mergeMember(receiver, source.deltaAbove(from));
            if (r.kind !== 'ignored') receiver = r.state;
            if (receiver !== undefined) {
              const expected = snapshots.get(`${receiver.generation}/${receiver.maxVersion}`);
              expect(expected, `no writer state at ${receiver.generation}/${receiver.maxVersion}`).toBeDefined();
              expect(receiver.equals(expected!)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: exchanging digests and deltas in any order converges to the newest state', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), (ops, order) => {
        const all = [...writeHistory(ops).values()];
        const newest = all[all.length - 1]!;
        let receiver: MemberState | undefined;
        // Random snapshots first, the newest last, each delta cut where the receiver's digest says.
        for (const source of [...order.map((i) => all[i % all.length]!), newest]) {
          const from = receiver !== undefined && receiver.generation === source.generation ? Math.min(receiver.maxVersion, source.maxVersion) : 0;
          const r = mergeMember(receiver, source.deltaAbove(from));
          if (r.kind !== 'ignored') receiver = r.state;
        }
        expect(receiver!.equals(newest)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('merging is commutative for conflicting writes at one version (two removers, or a reused generation)', () => {
    const a: MemberDelta = { nodeId: 'x', generation: 1, from: 0, heartbeat: 4, status: { value: 'normal', version: 1 }, tokens: { value: [1n], version: 2 }, load: { value: 0, version: 3 }, app: [{ key: 'k', value: 'a', version: 4 }] };
    const b: MemberDelta = { ...a, status: { value: 'leaving', version: 1 }, tokens: { value: [2n], version: 2 }, app: [{ key: 'k', value: 'b', version: 4 }] };
    const ab = MemberState.fromDelta(a)!;
    mergeMember(ab, { ...b, from: 0 });
    const ba = MemberState.fromDelta(b)!;
    mergeMember(ba, { ...a, from: 0 });
    expect(ab.equals(ba)).toBe(true);
  });

  it('two removers of one member build the same removal state, a generation above it', () => {
    const m = MemberState.initial('x', 4, { status: 'normal', tokens: [3n, 8n], load: 5 });
    m.heartbeatTick();
    const r1 = removalState(m);
    const r2 = removalState(m.clone());
    expect(r1.equals(r2)).toBe(true);
    expect(r1).toMatchObject({ generation: 5, status: 'removed', tokens: [3n, 8n] });
  });
});
