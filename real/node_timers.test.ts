import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { COARSE_FROM_MS, NodeTimers, SLOT_MS } from './node_timers.ts';

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

  it('runs long timers from shared slots: never before their delay, in the order set within a slot, each once', async () => {
    const timers = new NodeTimers();
    const start = performance.now();
    const fired: { name: string; at: number }[] = [];
    const delay = COARSE_FROM_MS + 5;
    for (const name of ['a', 'b', 'c']) timers.setTimer(delay, () => fired.push({ name, at: performance.now() - start }));
    timers.setTimer(delay + 3 * SLOT_MS, () => fired.push({ name: 'later', at: performance.now() - start }));
    expect(timers.pendingCount()).toBe(4);
    await sleep(delay + 6 * SLOT_MS + 50);
    expect(fired.map((f) => f.name)).toEqual(['a', 'b', 'c', 'later']);
    for (const f of fired.slice(0, 3)) expect(f.at).toBeGreaterThanOrEqual(delay - 1);
    expect(fired[3]!.at).toBeGreaterThanOrEqual(delay + 3 * SLOT_MS - 1);
    expect(timers.pendingCount()).toBe(0);
  });

  it('cancels a long timer without disturbing the others of its slot; cancelAll clears the slots', async () => {
    const timers = new NodeTimers({ keepAlive: false });
    const fired: string[] = [];
    const a = timers.setTimer(COARSE_FROM_MS, () => fired.push('a'));
    timers.setTimer(COARSE_FROM_MS, () => fired.push('b'));
    timers.cancelTimer(a);
    timers.cancelTimer(a); // twice is a no-op
    expect(timers.pendingCount()).toBe(1);
    await sleep(COARSE_FROM_MS + 2 * SLOT_MS + 50);
    expect(fired).toEqual(['b']);
    timers.setTimer(COARSE_FROM_MS * 2, () => fired.push('c'));
    timers.cancelAll();
    expect(timers.pendingCount()).toBe(0);
    await sleep(COARSE_FROM_MS * 2 + 2 * SLOT_MS + 50);
    expect(fired).toEqual(['b']);
  });

  it('runs zero-delay timers of one turn as one batch: a callback may cancel a later one of its batch, and one it sets waits for the next turn', async () => {
    const timers = new NodeTimers();
    const fired: string[] = [];
    let later = 0;
    timers.setTimer(0, () => {
      fired.push('a');
      timers.cancelTimer(later);
      timers.setTimer(0, () => fired.push('next turn'));
      expect(fired).toEqual(['a']); // never synchronously
    });
    later = timers.setTimer(0, () => fired.push('cancelled'));
    timers.setTimer(0, () => fired.push('c'));
    expect(timers.pendingCount()).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(fired).toEqual(['a', 'c']);
    expect(timers.pendingCount()).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(fired).toEqual(['a', 'c', 'next turn']);
    expect(timers.pendingCount()).toBe(0);
  });

  it('still runs the rest of a batch when one callback throws', async () => {
    const timers = new NodeTimers();
    const fired: string[] = [];
    const errors: unknown[] = [];
    const onError = (err: unknown) => errors.push(err);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onError);
    try {
      timers.setTimer(0, () => fired.push('a'));
      timers.setTimer(0, () => {
        throw new Error('boom');
      });
      timers.setTimer(0, () => fired.push('c'));
      await sleep(20);
    } finally {
      process.removeListener('uncaughtException', onError);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
    expect(fired).toEqual(['a', 'c']);
    expect(timers.pendingCount()).toBe(0);
  });
});
