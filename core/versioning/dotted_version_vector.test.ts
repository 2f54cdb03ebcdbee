import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CausalContext,
  type DvvSet,
  EMPTY_CONTEXT,
  checkDvv,
  collapseLww,
  contextCovers,
  dottedValues,
  emptyDvv,
  join,
  reconcile,
  siblingCount,
  siblingLimitVerdict,
  sync,
  update,
  values,
} from './dotted_version_vector.ts';

// Values are write ids (1, 2, 3...), unique per write, so a state's values
// name exactly which writes it keeps.

const REPLICAS = ['r0', 'r1', 'r2'];
const sorted = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

type Op =
  | { t: 'read'; client: number; from: number[] }
  | { t: 'write'; client: number; coordinator: number; withContext: boolean; replicateTo: number[]; keepReturnedContext: boolean }
  | { t: 'sync'; from: number; to: number };

const replicaSubset = fc.subarray([0, 1, 2], { minLength: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('read' as const), client: fc.nat(3), from: replicaSubset }),
  fc.record({
    t: fc.constant('write' as const),
    client: fc.nat(3),
    coordinator: fc.nat(2),
    withContext: fc.boolean(),
    replicateTo: fc.subarray([0, 1, 2]),
    keepReturnedContext: fc.boolean(),
  }),
  fc.record({ t: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
);
const historyArb = fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' });

/**
 * Replays a multi-client history on three replicas next to a model that
 * knows, for every write, which writes its context covered (`seen`), and for
 * every replica which writes reached it (`received`, directly or as seen by a
 * write that reached it). A replica must keep exactly the writes it received
 * that no write it received has seen.
 */
class History {
  readonly states: DvvSet<number>[] = REPLICAS.map(() => emptyDvv<number>());
  readonly received: Set<number>[] = REPLICAS.map(() => new Set<number>());
  readonly seen = new Map<number, Set<number>>();
  readonly clients = new Map<number, { context: CausalContext; seen: Set<number> }>();
  /** Every state produced along the way, for the algebraic properties. */
  readonly pool: DvvSet<number>[] = [];
  private nextWrite = 1;

  apply(op: Op): void {
    if (op.t === 'read') {
      let merged = emptyDvv<number>();
      const seen = new Set<number>();
      for (const r of op.from) {
        merged = sync(merged, this.states[r]!);
        for (const w of this.received[r]!) seen.add(w);
      }
      this.clients.set(op.client, { context: join(merged), seen });
      this.pool.push(merged);
    } else if (op.t === 'write') {
      const id = this.nextWrite++;
      const client = op.withContext ? this.clients.get(op.client) : undefined;
      const context = client?.context ?? EMPTY_CONTEXT;
      const seen = new Set(client?.seen ?? []);
      this.seen.set(id, seen);
      const c = op.coordinator;
      this.states[c] = update(this.states[c]!, context, id, REPLICAS[c]!);
      for (const w of seen) this.received[c]!.add(w);
      this.received[c]!.add(id);
      this.pool.push(this.states[c]!);
      for (const r of op.replicateTo) this.syncInto(c, r);
      if (op.keepReturnedContext) this.clients.set(op.client, { context: join(this.states[c]!), seen: new Set(this.received[c]) });
    } else {
      this.syncInto(op.from, op.to);
    }
  }

  syncInto(from: number, to: number): void {
    this.states[to] = sync(this.states[to]!, this.states[from]!);
    for (const w of this.received[from]!) this.received[to]!.add(w);
    this.pool.push(this.states[to]!);
  }

  /** The model's answer: received writes that no received write has seen. */
  expectedSiblings(r: number): number[] {
    const got = this.received[r]!;
    const superseded = new Set<number>();
    for (const w of got) for (const s of this.seen.get(w) ?? []) superseded.add(s);
    return sorted([...got].filter((w) => !superseded.has(w)));
  }

  get writes(): number {
    return this.nextWrite - 1;
  }
}

function replay(ops: Op[]): History {
  const h = new History();
  for (const op of ops) h.apply(op);
  return h;
}

describe('dotted version vector sets: basic semantics', () => {
  it('keeps concurrent writes made without a context', () => {
    let s = update(emptyDvv<string>(), EMPTY_CONTEXT, 'a', 'r0');
    s = update(s, EMPTY_CONTEXT, 'b', 'r0');
    s = update(s, EMPTY_CONTEXT, 'c', 'r1');
    expect(values(s).sort()).toEqual(['a', 'b', 'c']);
    expect(dottedValues(s).map((d) => `${d.dot.node}:${d.dot.counter}`)).toEqual(['r0:2', 'r0:1', 'r1:1']);
  });

  it('a write with a read’s context supersedes the siblings read and only those', () => {
    let replica = update(emptyDvv<string>(), EMPTY_CONTEXT, 'a', 'r0');
    replica = update(replica, EMPTY_CONTEXT, 'b', 'r1');
    const context = join(replica); // the client reads {a, b}
    // Meanwhile c arrives through another replica, written without having seen a or b.
    const other = update(emptyDvv<string>(), EMPTY_CONTEXT, 'c', 'r2');
    replica = sync(replica, other);
    expect(values(replica).sort()).toEqual(['a', 'b', 'c']);
    replica = update(replica, context, 'd', 'r0');
    expect(values(replica).sort()).toEqual(['c', 'd']);
    // Another replica that only ever held a and b drops them when it learns of d.
    const lagging = sync(update(emptyDvv<string>(), EMPTY_CONTEXT, 'a', 'r0'), update(emptyDvv<string>(), EMPTY_CONTEXT, 'b', 'r1'));
    expect(values(sync(lagging, replica)).sort()).toEqual(['c', 'd']);
  });

  it('applies a context the coordinator has not seen yet (the client read elsewhere)', () => {
    const elsewhere = update(emptyDvv<string>(), EMPTY_CONTEXT, 'a', 'r1');
    const coordinator = update(emptyDvv<string>(), join(elsewhere), 'b', 'r0');
    expect(values(coordinator)).toEqual(['b']);
    expect(values(sync(elsewhere, coordinator))).toEqual(['b']);
    expect(values(sync(coordinator, elsewhere))).toEqual(['b']);
  });

  it('collapses to the greatest sibling at its own dot, and reconciles with a new write', () => {
    let s = update(emptyDvv<number>(), EMPTY_CONTEXT, 5, 'r0');
    s = update(s, EMPTY_CONTEXT, 9, 'r0');
    s = update(s, EMPTY_CONTEXT, 7, 'r1');
    const collapsed = collapseLww(s, (a, b) => a - b);
    expect(dottedValues(collapsed)).toEqual([{ dot: { node: 'r0', counter: 2 }, value: 9 }]);
    expect(join(collapsed)).toEqual(join(s));
    expect(values(sync(s, collapsed))).toEqual([9]);
    const reconciled = reconcile(s, (vs) => vs.reduce((x, y) => x + y, 0), 'r1');
    expect(values(reconciled)).toEqual([21]);
    expect(contextCovers(join(s), s)).toBe(true);
    expect(contextCovers(join(s), reconciled)).toBe(false);
  });

  it('counts siblings against warn and max limits', () => {
    let s = emptyDvv<number>();
    for (let i = 0; i < 5; i++) s = update(s, EMPTY_CONTEXT, i, 'r0');
    expect(siblingCount(s)).toBe(5);
    expect(siblingLimitVerdict(siblingCount(s), { warn: 6, max: 10 })).toBe('ok');
    expect(siblingLimitVerdict(siblingCount(s), { warn: 5, max: 10 })).toBe('warn');
    expect(siblingLimitVerdict(siblingCount(s), { warn: 2, max: 4 })).toBe('over');
  });
});

describe('dotted version vector sets: replayed multi-client histories', () => {
  it('every replica keeps exactly the writes it received that no received write saw', () => {
    fc.assert(
      fc.property(historyArb, (ops) => {
        const h = new History();
        for (const op of ops) {
          h.apply(op);
          for (let r = 0; r < REPLICAS.length; r++) {
            checkDvv(h.states[r]!);
            expect(sorted(values(h.states[r]!))).toEqual(h.expectedSiblings(r));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('after a full exchange the replicas agree and no write that no later write saw is lost', () => {
    fc.assert(
      fc.property(historyArb, (ops) => {
        const h = replay(ops);
        for (let round = 0; round < 2; round++) {
          for (let r = 1; r < 3; r++) {
            h.syncInto(r, 0);
            h.syncInto(0, r);
          }
        }
        const seenByAnyone = new Set<number>();
        for (const s of h.seen.values()) for (const w of s) seenByAnyone.add(w);
        const unseen = [];
        for (let w = 1; w <= h.writes; w++) if (!seenByAnyone.has(w)) unseen.push(w);
        for (let r = 0; r < 3; r++) {
          expect(h.states[r]).toEqual(h.states[0]);
          expect(sorted(values(h.states[r]!))).toEqual(unseen);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('sync is idempotent, commutative and associative, also on collapsed states', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.nat(), fc.nat(), fc.boolean(), (ops, i, j, k, collapse) => {
        const h = replay(ops);
        const pick = (n: number): DvvSet<number> => {
          const s = h.pool.length === 0 ? emptyDvv<number>() : h.pool[n % h.pool.length]!;
          return collapse && n % 2 === 0 ? collapseLww(s, (x, y) => x - y) : s;
        };
        const a = pick(i);
        const b = pick(j);
        const c = pick(k);
        expect(sync(a, a)).toEqual(a);
        expect(sync(a, b)).toEqual(sync(b, a));
        expect(sync(sync(a, b), c)).toEqual(sync(a, sync(b, c)));
        expect(sync(sync(a, b), b)).toEqual(sync(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it('a write with a read’s context removes what was read and keeps everything that arrived since', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.nat(), fc.constantFrom(...REPLICAS), (ops, readAt, laterAt, coordinator) => {
        const h = replay(ops);
        if (h.pool.length === 0) return;
        const read = h.pool[readAt % h.pool.length]!;
        const now = sync(read, h.pool[laterAt % h.pool.length]!); // the replica may have learned more since
        const after = update(now, join(read), -1, coordinator);
        const readValues = new Set(values(read));
        expect(sorted(values(after))).toEqual(sorted([-1, ...values(now).filter((v) => !readValues.has(v))]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('dotted version vector sets: no sibling explosion (riak_kv#746)', () => {
  // The scheme DVVs replace: one version vector per key, so a write can only
  // replace everything (its context is current) or nothing.
  class VersionVectorPerKey {
    counter = 0;
    siblings: number[] = [];
    write(context: number, value: number): number {
      this.siblings = context >= this.counter ? [value] : [...this.siblings, value];
      return ++this.counter;
    }
  }

  it('two clients re-writing with the context each got back keep two siblings, where a per-key vector grows without bound', () => {
    let dvv = emptyDvv<number>();
    const perKey = new VersionVectorPerKey();
    const dvvContexts: CausalContext[] = [EMPTY_CONTEXT, EMPTY_CONTEXT];
    const perKeyContexts = [0, 0];
    let id = 0;
    for (let round = 0; round < 50; round++) {
      for (let client = 0; client < 2; client++) {
        id++;
        dvv = update(dvv, dvvContexts[client]!, id, 'r0');
        dvvContexts[client] = join(dvv);
        perKeyContexts[client] = perKey.write(perKeyContexts[client]!, id);
        expect(siblingCount(dvv)).toBeLessThanOrEqual(2);
      }
    }
    expect(sorted(values(dvv))).toEqual([99, 100]);
    expect(perKey.siblings.length).toBe(100);
  });

  it('clients re-writing with the context they got back never hold more siblings than there are clients', () => {
    const stepArb = fc.record({ client: fc.nat(3), coordinator: fc.nat(2), read: fc.option(replicaSubset), replicateTo: fc.subarray([0, 1, 2]) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(stepArb, { maxLength: 80, size: 'max' }), (clientCount, steps) => {
        const states = REPLICAS.map(() => emptyDvv<number>());
        // Each client's view: everything it has read or been sent back; its next context is join(view).
        const views = new Array(clientCount).fill(null).map(() => emptyDvv<number>());
        let id = 0;
        for (const step of steps) {
          const client = step.client % clientCount;
          if (step.read) for (const r of step.read) views[client] = sync(views[client]!, states[r]!);
          const c = step.coordinator;
          states[c] = update(states[c]!, join(views[client]!), ++id, REPLICAS[c]!);
          views[client] = states[c]!;
          for (const r of step.replicateTo) states[r] = sync(states[r]!, states[c]!);
          for (const s of states) expect(siblingCount(s)).toBeLessThanOrEqual(clientCount);
        }
      }),
      { numRuns: 150 },
    );
  });
});
