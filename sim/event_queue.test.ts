import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { EventQueue } from './event_queue.ts';

describe('EventQueue', () => {
  it('pops in (time, insertion) order', () => {
    const q = new EventQueue<string>();
    q.push(5, 'a');
    q.push(1, 'b');
    q.push(5, 'c');
    q.push(0, 'd');
    q.push(1, 'e');
    const out: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.payload);
    expect(out).toEqual(['d', 'b', 'e', 'a', 'c']);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBeUndefined();
  });

  it('cancels by id; cancelling twice or after the pop is a no-op', () => {
    const q = new EventQueue<string>();
    const a = q.push(1, 'a');
    const b = q.push(2, 'b');
    expect(q.cancel(a)).toBe(true);
    expect(q.cancel(a)).toBe(false);
    expect(q.isPending(a)).toBe(false);
    expect(q.size).toBe(1);
    expect(q.peekTime()).toBe(2);
    expect(q.pop()!.id).toBe(b);
    expect(q.cancel(b)).toBe(false);
    expect(q.cancel(12345)).toBe(false);
  });

  it('popPayload returns payloads in order with their time and id; ids grow with insertion', () => {
    const q = new EventQueue<string>();
    const a = q.push(3, 'a');
    const b = q.push(1, 'b');
    expect(b).toBeGreaterThan(a);
    q.cancel(a);
    const c = q.push(3, 'c');
    expect(c).toBeGreaterThan(b);
    expect(q.isPending(a)).toBe(false);
    expect(q.popPayload()).toBe('b');
    expect([q.poppedTimeMs, q.poppedId]).toEqual([1, b]);
    expect(q.popPayload()).toBe('c');
    expect([q.poppedTimeMs, q.poppedId]).toEqual([3, c]);
    expect(q.popPayload()).toBeUndefined();
  });

  it('refuses non-finite times', () => {
    const q = new EventQueue<number>();
    expect(() => q.push(Number.NaN, 1)).toThrow(AssertionError);
    expect(() => q.push(Number.POSITIVE_INFINITY, 1)).toThrow(AssertionError);
  });

  it('property: matches a sorted-array model under pushes, pops and cancellations', () => {
    type Cmd = { t: 'push'; time: number } | { t: 'pop' } | { t: 'cancel'; pick: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ t: fc.constant('push' as const), time: fc.integer({ min: 0, max: 20 }) }) },
      { weight: 3, arbitrary: fc.constant({ t: 'pop' as const }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() }) },
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 300 }), (cmds) => {
        const q = new EventQueue<number>();
        // The model: live entries kept sorted by (time, id) with a stable sort.
        let model: { id: number; time: number }[] = [];
        const issued: number[] = [];
        const popped: { id: number; time: number }[] = [];
        let clock = 0;
        for (const c of cmds) {
          if (c.t === 'push') {
            // Events are scheduled at or after the current time, as in the simulator.
            const id = q.push(clock + c.time, clock + c.time);
            issued.push(id);
            model.push({ id, time: clock + c.time });
            model = [...model].sort((x, y) => x.time - y.time || x.id - y.id);
          } else if (c.t === 'pop') {
            const e = q.pop();
            const m = model.shift();
            expect(e === undefined ? undefined : { id: e.id, time: e.timeMs }).toEqual(m);
            if (e !== undefined) {
              expect(e.payload).toBe(e.timeMs);
              clock = e.timeMs;
              popped.push(m!);
            }
          } else if (issued.length > 0) {
            const id = issued[c.pick % issued.length]!;
            const wasLive = model.some((m) => m.id === id);
            expect(q.cancel(id)).toBe(wasLive);
            model = model.filter((m) => m.id !== id);
          }
          expect(q.size).toBe(model.length);
          expect(q.peekTime()).toBe(model[0]?.time);
          // Freed slots are reused: an old id must not look pending again.
          for (const id of issued) {
            const m = model.find((e) => e.id === id);
            expect(q.isPending(id)).toBe(m !== undefined);
            expect(q.payloadOf(id)).toBe(m?.time);
          }
        }
        // Whatever was popped came out sorted by (time, id).
        for (let i = 1; i < popped.length; i++) {
          const [a, b] = [popped[i - 1]!, popped[i]!];
          expect(a.time < b.time || (a.time === b.time && a.id < b.id)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays correct when most events are cancelled (compaction)', () => {
    const q = new EventQueue<number>();
    const ids: number[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(q.push((i * 7919) % 1000, i));
    for (let i = 0; i < ids.length; i++) if (i % 10 !== 0) q.cancel(ids[i]!);
    expect(q.size).toBe(1000);
    const out: number[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.payload);
    const expected = Array.from({ length: 1000 }, (_, k) => k * 10).sort((a, b) => ((a * 7919) % 1000) - ((b * 7919) % 1000) || a - b);
    expect(out).toEqual(expected);
  });
});
