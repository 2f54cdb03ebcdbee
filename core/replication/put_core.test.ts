import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PutCore } from './put_core.ts';
import type { ErrorCode } from './requests.ts';

type Answer = { node: number; kind: 'ack' } | { node: number; kind: 'refuse'; code: ErrorCode; definite: boolean };

const answersArb = (n: number): fc.Arbitrary<Answer[]> =>
  fc.array(
    fc.oneof(
      fc.record({ node: fc.nat(n - 1), kind: fc.constant('ack' as const) }),
      fc.record({ node: fc.nat(n - 1), kind: fc.constant('refuse' as const), code: fc.constantFrom<ErrorCode>('overloaded', 'invalid', 'internal'), definite: fc.boolean() }),
    ),
    { maxLength: 2 * n },
  );

/** Feeds answers until the outcome is decided or they run out, then the deadline. */
function run(n: number, w: number, answers: Answer[]) {
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const core = new PutCore(nodes, w);
  let decidedAfter = -1;
  let outcome = core.outcome();
  for (let i = 0; i < answers.length && outcome === null; i++) {
    const a = answers[i]!;
    if (a.kind === 'ack') core.ack(nodes[a.node]!);
    else core.refuse(nodes[a.node]!, a.code, 'no', a.definite);
    outcome = core.outcome();
    if (outcome !== null) decidedAfter = i;
  }
  const timedOut = outcome === null;
  if (timedOut) {
    core.timeout();
    outcome = core.outcome();
  }
  return { outcome: outcome!, decidedAfter, timedOut };
}

describe('put core against a model of reply sets', () => {
  it('succeeds exactly when W distinct replicas acknowledged (first answer per replica counts)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), answersArb(n))), ([n, w, answers]) => {
        const { outcome, decidedAfter, timedOut } = run(n, w, answers);
        // Model: the first answer of each replica counts.
        const first = new Map<number, Answer>();
        for (const a of answers) if (!first.has(a.node)) first.set(a.node, a);
        const acks = [...first.values()].filter((a) => a.kind === 'ack').length;
        expect(outcome.ok).toBe(acks >= w);
        if (outcome.ok) {
          expect(timedOut).toBe(false);
          return;
        }
        // Decided as soon as success became impossible, never before.
        const prefix = timedOut ? answers : answers.slice(0, decidedAfter + 1);
        const firstInPrefix = new Map<number, Answer>();
        for (const a of prefix) if (!firstInPrefix.has(a.node)) firstInPrefix.set(a.node, a);
        const ackedInPrefix = [...firstInPrefix.values()].filter((a) => a.kind === 'ack').length;
        const answered = firstInPrefix.size;
        if (!timedOut) expect(ackedInPrefix + (n - answered)).toBeLessThan(w);
        const e = outcome.error;
        expect(e.required).toBe(w);
        expect(e.replied).toBe(ackedInPrefix);
        expect(e.message).toContain(`needs ${w} acknowledgements, got ${ackedInPrefix} of ${n}`);
        // Definite only when nothing can have been written anywhere.
        const refusals = [...firstInPrefix.values()].filter((a) => a.kind === 'refuse');
        const expectDefinite = ackedInPrefix === 0 && answered === n && refusals.every((a) => a.kind === 'refuse' && a.definite);
        expect(e.definite).toBe(expectDefinite);
        if (timedOut && answered < n) expect(e.code).toBe('timeout');
      }),
      { numRuns: 2000 },
    );
  });

  it('names the common refusal code, or unavailable when they differ', () => {
    const core = new PutCore(['a', 'b', 'c'], 2);
    core.refuse('a', 'overloaded', 'full', true);
    expect(core.outcome()).toBeNull();
    core.refuse('b', 'overloaded', 'full', true);
    expect(core.outcome()).toMatchObject({ ok: false, error: { code: 'overloaded', definite: false } });
    const mixed = new PutCore(['a', 'b'], 2);
    mixed.refuse('a', 'overloaded', 'x', true);
    mixed.refuse('b', 'invalid', 'y', true);
    expect(mixed.outcome()).toMatchObject({ ok: false, error: { code: 'unavailable', definite: true } });
  });

  it('ignores answers from replicas it did not ask and duplicates', () => {
    const core = new PutCore(['a', 'b', 'c'], 2);
    core.ack('a');
    core.ack('a');
    core.ack('z');
    expect(core.outcome()).toBeNull();
    expect(core.acks).toBe(1);
    core.ack('c');
    expect(core.outcome()).toEqual({ ok: true });
  });

  it('counts a coordinator that acknowledged its own write', () => {
    const core = new PutCore(['self', 'b', 'c'], 1);
    core.ack('self');
    expect(core.outcome()).toEqual({ ok: true });
  });
});
