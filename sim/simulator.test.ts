import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { describeDiskConformance } from '../io/disk_conformance.ts';
import type { Network } from '../io/network.ts';
import { SIM_EPOCH_MS } from './sim_clock.ts';
import { Simulator } from './simulator.ts';
import { runSmallWorld } from './simulator_fixture.ts';

describeDiskConformance('SimDisk in a Simulator', () => {
  const sim = new Simulator({ seed: 'conformance' });
  const node = sim.addNode('n1', { disk: { syncLatencyMs: [1, 20] } });
  return { disk: node.env.disk, runUntilIdle: () => void sim.run() };
});

describe('Simulator event loop', () => {
  it('runs timers in time order, advancing true time to each', () => {
    const sim = new Simulator({ seed: 1 });
    const n = sim.addNode('a');
    const seen: [string, number][] = [];
    n.env.timers.setTimer(30, () => seen.push(['c', sim.nowMs()]));
    n.env.timers.setTimer(10, () => seen.push(['a', sim.nowMs()]));
    n.env.timers.setTimer(10, () => seen.push(['b', sim.nowMs()]));
    n.env.timers.setTimer(0, () => seen.push(['zero', sim.nowMs()]));
    expect(sim.run()).toBe(4);
    expect(seen).toEqual([['zero', 0], ['a', 10], ['b', 10], ['c', 30]]);
    expect(sim.eventsProcessed).toBe(4);
  });

  it('timers scheduled from timers, cancellation, and a fired timer cancelled is a no-op', () => {
    const sim = new Simulator({ seed: 2 });
    const { timers } = sim.addNode('a').env;
    const seen: string[] = [];
    const doomed = timers.setTimer(5, () => seen.push('doomed'));
    const first = timers.setTimer(1, () => {
      seen.push('first');
      timers.cancelTimer(doomed);
      timers.setTimer(1, () => seen.push('nested'));
    });
    sim.run();
    timers.cancelTimer(first);
    expect(seen).toEqual(['first', 'nested']);
    expect(sim.nowMs()).toBe(2);
  });

  it('maxEvents and untilMs stop a livelock; untilMs advances time', () => {
    const sim = new Simulator({ seed: 3 });
    const { timers } = sim.addNode('a').env;
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      timers.setTimer(10, tick);
    };
    timers.setTimer(10, tick);
    expect(sim.run({ maxEvents: 100 })).toBe(100);
    expect(ticks).toBe(100);
    expect(sim.nowMs()).toBe(1000);
    expect(sim.run({ untilMs: 1055 })).toBe(5);
    expect(sim.nowMs()).toBe(1055);
    expect(sim.run({ untilMs: 2000, maxEvents: 3 })).toBe(3);
    expect(sim.nowMs()).toBe(1080);
  });

  it('runUntil stops when the predicate holds and reports whether it did', () => {
    const sim = new Simulator({ seed: 4 });
    const { timers } = sim.addNode('a').env;
    let count = 0;
    const tick = (): void => {
      count++;
      timers.setTimer(1, tick);
    };
    timers.setTimer(1, tick);
    expect(sim.runUntil(() => count === 7)).toBe(true);
    expect(count).toBe(7);
    expect(sim.runUntil(() => count === 7)).toBe(true);
    expect(count).toBe(7);
    expect(sim.runUntil(() => false, { maxEvents: 10 })).toBe(false);
    expect(count).toBe(17);
  });

  it('world events run without a node; run may not be re-entered', () => {
    const sim = new Simulator({ seed: 5 });
    let inner: unknown;
    sim.schedule(3, 'world', () => {
      try {
        sim.run();
      } catch (e) {
        inner = e;
      }
    });
    sim.run();
    expect(inner).toBeInstanceOf(AssertionError);
    expect(sim.nowMs()).toBe(3);
  });

  it('gives each node a clock with its skew and drift, at a realistic epoch', () => {
    const sim = new Simulator({ seed: 6 });
    const a = sim.addNode('a');
    const b = sim.addNode('b', { clockSkewMs: -500, clockDriftPpm: 1000 });
    sim.schedule(10_000, 'tick', () => {});
    sim.run();
    expect(a.clock.wallMs()).toBe(SIM_EPOCH_MS + 10_000);
    expect(b.clock.wallMs()).toBeCloseTo(SIM_EPOCH_MS - 500 + 10_010, 6);
    expect(b.clock.monotonicMs()).toBeCloseTo(10_010, 6);
    // A drifting clock's timer fires after its own monotonic delay.
    let firedAtMono = 0;
    const startMono = b.clock.monotonicMs();
    b.env.timers.setTimer(1000, () => (firedAtMono = b.clock.monotonicMs()));
    sim.run();
    expect(firedAtMono - startMono).toBeGreaterThanOrEqual(1000);
    expect(sim.nowMs()).toBeLessThan(11_000);
  });
});

describe('Simulator crash and restart', () => {
  it('drops the crashed incarnation’s timers and disk callbacks, even after a restart', () => {
    const sim = new Simulator({ seed: 7 });
    const n0 = sim.addNode('a');
    const fired: string[] = [];
    n0.env.timers.setTimer(10, () => fired.push('old timer'));
    const f = n0.env.disk.create('wal');
    f.append(new Uint8Array(100));
    f.sync(() => fired.push('old sync'));
    sim.crash('a');
    expect(sim.isUp('a')).toBe(false);
    expect(() => sim.crash('a')).toThrow(AssertionError);
    const n1 = sim.restart('a');
    expect(n1.incarnation).toBe(1);
    expect(sim.node('a')).toBe(n1);
    expect(n1.disk).toBe(n0.disk);
    expect(n1.clock).toBe(n0.clock);
    n1.env.timers.setTimer(20, () => fired.push('new timer'));
    // A leaked reference to the old incarnation's timers schedules nothing that runs.
    n0.env.timers.setTimer(5, () => fired.push('leaked'));
    sim.run();
    expect(fired).toEqual(['new timer']);
    expect(() => sim.restart('a')).toThrow(AssertionError);
  });

  it('a node event that crashes its own node takes effect when the event returns', () => {
    const sim = new Simulator({ seed: 8 });
    const n = sim.addNode('a');
    const seen: string[] = [];
    n.env.timers.setTimer(1, () => {
      sim.crash('a');
      seen.push(`still up inside: ${sim.isUp('a')}`);
      n.env.timers.setTimer(1, () => seen.push('never'));
    });
    sim.run();
    expect(seen).toEqual(['still up inside: true']);
    expect(sim.isUp('a')).toBe(false);
  });

  it('a crash keeps synced data and dir-synced names', () => {
    const sim = new Simulator({ seed: 9 });
    const n = sim.addNode('a');
    const f = n.env.disk.create('data');
    f.append(new Uint8Array(4096).fill(3));
    let synced = false;
    f.sync(() => n.env.disk.syncDir(() => (synced = true)));
    sim.run();
    expect(synced).toBe(true);
    f.append(new Uint8Array(4096).fill(4));
    sim.crash('a');
    const g = sim.restart('a').env.disk.open('data');
    expect(g.size()).toBeGreaterThanOrEqual(4096);
    expect(g.pread(0, 4096).every((b) => b === 3)).toBe(true);
  });
});

describe('Simulator seams', () => {
  it('Env.net throws until a network is attached, then reaches the attached endpoint per incarnation', () => {
    const sim = new Simulator({ seed: 10 });
    const a = sim.addNode('a');
    const handler = (): void => {};
    a.env.net.onFrame(handler);
    expect(() => a.env.net.send('b', new Uint8Array(1))).toThrow(/network not attached/);
    const sent: string[] = [];
    const handlers: string[] = [];
    sim.attachNetwork((node): Network => ({
      send: (to, frame) => sent.push(`${node.id}#${node.incarnation}->${to}:${frame.length}`),
      onFrame: (h) => handlers.push(`${node.id}#${node.incarnation}:${h === handler}`),
    }));
    a.env.net.send('b', new Uint8Array(2));
    sim.crash('a');
    sim.restart('a').env.net.send('c', new Uint8Array(3));
    sim.addNode('d').env.net.send('a', new Uint8Array(4));
    expect(sent).toEqual(['a#0->b:2', 'a#1->c:3', 'd#0->a:4']);
    expect(handlers).toEqual(['a#0:true']);
    expect(() => sim.attachNetwork(() => a.env.net)).toThrow(AssertionError);
  });

  it('buggify is off by default; on, some sites fire sometimes, deterministically', () => {
    const off = new Simulator({ seed: 11 }).addNode('a').env.buggify;
    const sites = Array.from({ length: 40 }, (_, i) => `site-${i}`);
    expect(sites.some((s) => Array.from({ length: 100 }, () => off(s)).some(Boolean))).toBe(false);
    const fires = (seed: number): string => {
      const b = new Simulator({ seed, buggify: true }).addNode('a').env.buggify;
      return sites.map((s) => Array.from({ length: 200 }, () => (b(s) ? 1 : 0)).reduce((x: number, y) => x + y, 0)).join(',');
    };
    const counts = fires(11).split(',').map(Number);
    expect(counts.filter((c) => c === 0).length).toBeGreaterThan(5);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(5);
    expect(Math.max(...counts)).toBeLessThan(40);
    expect(fires(11)).toBe(fires(11));
    expect(fires(11)).not.toBe(fires(12));
  });
});

describe('Simulator determinism', () => {
  it('the same seed gives the same trace hash; other seeds give other hashes', () => {
    expect(runSmallWorld(42)).toEqual(runSmallWorld(42));
    expect(runSmallWorld('9f3c2e1d0a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d')).toEqual(runSmallWorld('9f3c2e1d0a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d'));
    const hashes = new Set(Array.from({ length: 30 }, (_, seed) => runSmallWorld(seed).hash));
    expect(hashes.size).toBe(30);
  });

  it('trace() lines change the hash', () => {
    const a = new Simulator({ seed: 1 });
    const b = new Simulator({ seed: 1 });
    expect(a.traceHash()).toBe(b.traceHash());
    a.trace('verdict ok');
    expect(a.traceHash()).not.toBe(b.traceHash());
    b.trace('verdict ok');
    expect(a.traceHash()).toBe(b.traceHash());
  });

  it('keeps readable recent trace lines on request', () => {
    const sim = new Simulator({ seed: 1, traceKeepLines: 3 });
    sim.addNode('a').env.timers.setTimer(5, () => {});
    sim.run();
    sim.trace('done');
    expect(sim.recentTrace()).toEqual(['add a', '5 a timer', 'done']);
  });
});
