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

  it('rejects negative delays', () => {
    expect(() => new NodeTimers().setTimer(-1, () => {})).toThrow(/delay/);
  });
});
