import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../sim/simulator.ts';
import { Engine, type EngineOptions } from './engine.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

const options: Partial<EngineOptions> = {
  syncWrites: false,
  memtableBytes: 4 * 1024,
  blockBytes: 512,
  l1TargetBytes: 16 * 1024,
  targetFileBytes: 4 * 1024,
  compactionStepBytes: 2 * 1024,
  compactionBytesPerSec: 0,
};

function open(sim: Simulator, opts: Partial<EngineOptions>): Engine {
  const node = sim.addNode('n1');
  let engine: Engine | undefined;
  Engine.open(node.env, opts, (err, e) => {
    expect(err).toBeNull();
    engine = e;
  });
  sim.runUntil(() => engine !== undefined);
  return engine!;
}

type Step =
  | { kind: 'now'; key: number; del: boolean }
  | { kind: 'queued'; key: number; del: boolean }
  | { kind: 'run'; events: number };

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('now' as const), key: fc.integer({ min: 0, max: 40 }), del: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('queued' as const), key: fc.integer({ min: 0, max: 40 }), del: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('run' as const), events: fc.integer({ min: 1, max: 30 }) }) },
);

describe('Engine.tryWriteNow', () => {
  it('acknowledges at once only with nothing unacknowledged ahead, keeps acknowledgements in order, and loses nothing', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 400 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
        const sim = new Simulator({ seed: `write-now-${seed}` });
        const engine = open(sim, options);
        // What reads must see once everything is acknowledged, and the order acknowledgements must come in.
        const model = new Map<number, string | undefined>();
        const expectedOrder: number[] = [];
        const acked: number[] = [];
        let outstanding = 0;
        let nowCount = 0;
        steps.forEach((step, i) => {
          if (step.kind === 'run') {
            sim.run({ maxEvents: step.events });
            return;
          }
          const key = enc(`k${step.key}`);
          const value = `v${i}`;
          const ops = step.del ? [{ kind: 'delete' as const, key }] : [{ kind: 'put' as const, key, value: enc(value) }];
          model.set(step.key, step.del ? undefined : value);
          const cb = (err: Error | null) => {
            expect(err).toBeNull();
            acked.push(i);
            outstanding--;
          };
          if (step.kind === 'queued') {
            engine.write(ops, cb);
          } else {
            const hadOutstanding = outstanding > 0;
            if (engine.tryWriteNow(ops, cb)) {
              nowCount++;
              expect(hadOutstanding).toBe(false);
              // Visible at once, and the caller's buffers are not kept.
              expect(dec(engine.get(key))).toBe(step.del ? undefined : value);
              if (!step.del) ops[0]!.key.fill(0);
              return;
            }
          }
          outstanding++;
          expectedOrder.push(i);
        });
        sim.runUntil(() => outstanding === 0);
        expect(acked).toEqual(expectedOrder);
        for (const [k, v] of model) expect(dec(engine.get(enc(`k${k}`)))).toBe(v);
        // The fast path is taken whenever nothing is ahead: most of these writes.
        if (steps.every((s) => s.kind === 'now')) expect(nowCount).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });

  it('leaves background work a turn: while a flush or compaction runs, at most 100 writes in a row are acknowledged at once', () => {
    const sim = new Simulator({ seed: 'write-now-turns' });
    // Memtables of some 500 writes, flushed in many small steps: runs of fast writes are long unless cut.
    const engine = open(sim, { ...options, memtableBytes: 64 * 1024, compactionStepBytes: 512 });
    let inRow = 0;
    let longest = 0;
    for (let i = 0; i < 20_000; i++) {
      const busy = engine.activity().flushing || engine.activity().compacting;
      let done = false;
      const key = enc(`k${(i * 7919) % 1000}`);
      if (engine.tryWriteNow([{ kind: 'put', key, value: enc(`v${i}`) }], () => (done = true))) {
        inRow = busy ? inRow + 1 : 0;
        longest = Math.max(longest, inRow);
        continue;
      }
      inRow = 0;
      // A caller awaiting the write: the event loop turns until it is acknowledged.
      sim.runUntil(() => done);
    }
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThanOrEqual(100);
    expect(engine.stats().flushesRun).toBeGreaterThan(5);
    expect(engine.stats().compactionsRun).toBeGreaterThan(0);
  });

  it('never acknowledges at once with syncWrites on', () => {
    const sim = new Simulator({ seed: 'write-now-sync' });
    const engine = open(sim, { ...options, syncWrites: true });
    let done = false;
    expect(engine.tryWriteNow([{ kind: 'put', key: enc('a'), value: enc('1') }], () => (done = true))).toBe(false);
    expect(engine.get(enc('a'))).toBeUndefined();
    sim.runUntil(() => done);
    expect(dec(engine.get(enc('a')))).toBe('1');
  });
});
