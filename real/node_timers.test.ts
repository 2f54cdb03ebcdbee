import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeTimers } from './node_timers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('NodeTimers', () => {
  it('fires zero-delay timers on the next turn, in order, before a 1 ms timeout', async () => {
    const timers = new NodeTimers();
    const fired: string[] = [];
    timers.setTimer(1, () => fired.push('timeout'));
    timers.setTimer(0, () => fired.push('a'));
    timers.setTimer(0, () => fired.push('b'));
    expect(fired).toEqual([]); // never synchronously
    await new Promise((r) => setImmediate(r));
    expect(fired.slice(0, 2)).toEqual(['a', 'b']);
    await sleep(20);
    expect(fired).toEqual(['a', 'b', 'timeout']);
    expect(timers.pendingCount()).toBe(0);
  });

  it('waits at least the delay', async () => {
    const timers = new NodeTimers();
    const start = process.hrtime.bigint();
    const ms = await new Promise<number>((resolve) =>
      timers.setTimer(30, () => resolve(Number(process.hrtime.bigint() - start) / 1e6)),
    );
    expect(ms).toBeGreaterThanOrEqual(29);
  });

  it('cancels pending timers of both kinds; cancelling a fired or unknown id is a no-op', async () => {
    const timers = new NodeTimers();
    let fired = 0;
    const a = timers.setTimer(0, () => fired++);
    const b = timers.setTimer(5, () => fired++);
    const c = timers.setTimer(0, () => fired++);
    timers.cancelTimer(a);
    timers.cancelTimer(b);
    expect(timers.pendingCount()).toBe(1);
    await sleep(20);
    expect(fired).toBe(1);
    timers.cancelTimer(c);
    timers.cancelTimer(12345);
    expect(timers.pendingCount()).toBe(0);
  });

  it('cancelAll stops everything', async () => {
    const timers = new NodeTimers({ keepAlive: false });
    let fired = 0;
    for (let i = 0; i < 5; i++) timers.setTimer(i, () => fired++);
    timers.cancelAll();
    await sleep(20);
    expect(fired).toBe(0);
  });

  it('runs a zero-delay timer set by a zero-delay callback on a later turn, and skips one cancelled by an earlier callback', async () => {
    const timers = new NodeTimers();
    const fired: string[] = [];
    let b = 0;
    timers.setTimer(0, () => {
      fired.push('a');
      timers.setTimer(0, () => fired.push('c'));
      timers.cancelTimer(b);
    });
    b = timers.setTimer(0, () => fired.push('b'));
    timers.setTimer(0, () => fired.push('d'));
    await new Promise((r) => setImmediate(r));
    expect(fired).toEqual(['a', 'd']);
    await sleep(5);
    expect(fired).toEqual(['a', 'd', 'c']);
    expect(timers.pendingCount()).toBe(0);
  });

  it('fires exactly the timers not cancelled, zero-delay ones in the order set (model)', async () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('set' as const), delay: fc.constantFrom(0, 0, 0, 1, 3) }),
      fc.record({ t: fc.constant('cancel' as const), which: fc.nat(20) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const timers = new NodeTimers();
        const ids: number[] = [];
        const delays = new Map<number, number>();
        const cancelled = new Set<number>();
        const fired: number[] = [];
        for (const o of ops) {
          if (o.t === 'set') {
            const id = timers.setTimer(o.delay, () => fired.push(id));
            ids.push(id);
            delays.set(id, o.delay);
          } else if (ids.length > 0) {
            const id = ids[o.which % ids.length]!;
            timers.cancelTimer(id);
            cancelled.add(id);
          }
        }
        expect(timers.pendingCount()).toBe(ids.filter((id) => !cancelled.has(id)).length);
        await sleep(10);
        const expected = ids.filter((id) => !cancelled.has(id));
        expect([...fired].sort((x, y) => x - y)).toEqual(expected);
        const zeroFired = fired.filter((id) => delays.get(id) === 0);
        expect(zeroFired).toEqual(expected.filter((id) => delays.get(id) === 0));
        expect(timers.pendingCount()).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects negative delays', () => {
    expect(() => new NodeTimers().setTimer(-1, () => {})).toThrow(/delay/);
  });
});
