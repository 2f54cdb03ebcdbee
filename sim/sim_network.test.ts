import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { decodeFrame, encodeFrame } from '../io/frame_codec.ts';
import type { PacketFaultOptions } from './packet_fault_options.ts';
import { FrameInFlightError, SimNetwork } from './sim_network.ts';
import { Simulator } from './simulator.ts';

interface Arrival {
  at: number;
  from: string;
  to: string;
  seq: number;
}

interface World {
  sim: Simulator;
  net: SimNetwork;
  arrivals: Arrival[];
  /** Sends {seq} from→to now; returns the seq. */
  send(from: string, to: string): number;
  sentAt: Map<number, number>;
}

function listen(world: Pick<World, 'sim' | 'arrivals'>, id: string): void {
  world.sim.node(id).env.net.onFrame((from, frame) => {
    const message = decodeFrame(frame)!.message as { seq: number };
    world.arrivals.push({ at: world.sim.nowMs(), from, to: id, seq: message.seq });
  });
}

function makeWorld(seed: number | string, nodes: string[], options: Partial<PacketFaultOptions> = {}): World {
  const sim = new Simulator({ seed });
  for (const id of nodes) sim.addNode(id);
  const net = SimNetwork.attach(sim, options);
  const arrivals: Arrival[] = [];
  const sentAt = new Map<number, number>();
  let seq = 0;
  const world: World = {
    sim,
    net,
    arrivals,
    sentAt,
    send(from, to) {
      const s = seq++;
      sentAt.set(s, sim.nowMs());
      sim.node(from).env.net.send(to, encodeFrame({ seq: s, pad: 'x'.repeat(s % 7) }));
      return s;
    },
  };
  for (const id of nodes) listen(world, id);
  return world;
}

/** Sends one frame each way between every pair, runs to quiet, and returns which directed pairs got through. */
function reachability(world: World, nodes: string[]): Set<string> {
  world.arrivals.length = 0;
  for (const a of nodes) for (const b of nodes) if (a !== b) world.send(a, b);
  world.sim.run({ untilMs: world.sim.nowMs() + 1000 });
  return new Set(world.arrivals.map((x) => `${x.from}>${x.to}`));
}

function allPairs(nodes: string[]): string[] {
  return nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => `${a}>${b}`));
}

/** Whether some directed link delivered a later-sent frame before an earlier one. */
function reordered(arrivals: Arrival[]): boolean {
  const last = new Map<string, number>();
  for (const x of arrivals) {
    const key = `${x.from}>${x.to}`;
    if ((last.get(key) ?? -1) > x.seq) return true;
    last.set(key, x.seq);
  }
  return false;
}

const NODES = ['a', 'b', 'c', 'd', 'e'];

describe('SimNetwork without faults', () => {
  it('delivers every frame exactly once, within the delay bounds', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(fc.record({ from: fc.constantFrom(...NODES), to: fc.constantFrom(...NODES), gap: fc.double({ min: 0, max: 5, noNaN: true }) }), {
          maxLength: 60,
        }),
        (seed, sends) => {
          const w = makeWorld(seed, NODES, { oneWayDelayMinMs: 1, oneWayDelayMeanMs: 4, oneWayDelayMaxMs: 20 });
          const expected: string[] = [];
          let t = 0;
          for (const s of sends) {
            t += s.gap;
            w.sim.schedule(t, 'send', () => expected.push(`${s.from}>${s.to}#${w.send(s.from, s.to)}`));
          }
          w.sim.run();
          const got = w.arrivals.map((x) => `${x.from}>${x.to}#${x.seq}`);
          expect([...got].sort()).toEqual([...expected].sort());
          for (const x of w.arrivals) {
            const delay = x.at - w.sentAt.get(x.seq)!;
            expect(delay).toBeGreaterThanOrEqual(1);
            expect(delay).toBeLessThanOrEqual(20 + 1e-9);
          }
          const stats = w.net.stats();
          expect(stats.sent).toBe(sends.length);
          expect(stats.delivered).toBe(sends.length);
          expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
          expect(stats.bytesDelivered).toBe(stats.bytesSent);
          expect(w.net.inFlight()).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('draws delays with the configured mean, capped at the maximum', () => {
    const w = makeWorld(7, ['a', 'b'], { oneWayDelayMinMs: 2, oneWayDelayMeanMs: 10, oneWayDelayMaxMs: 1000 });
    for (let i = 0; i < 4000; i++) w.send('a', 'b');
    w.sim.run();
    const delays = w.arrivals.map((x) => x.at);
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    expect(mean).toBeGreaterThan(9.5);
    expect(mean).toBeLessThan(10.5);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2);

    const capped = makeWorld(7, ['a', 'b'], { oneWayDelayMinMs: 2, oneWayDelayMeanMs: 10, oneWayDelayMaxMs: 12 });
    for (let i = 0; i < 1000; i++) capped.send('a', 'b');
    capped.sim.run();
    const at = capped.arrivals.map((x) => x.at);
    expect(Math.max(...at)).toBe(12);
    expect(at.filter((d) => d === 12).length).toBeGreaterThan(100);
  });

  it('copies frames: a sender reusing its buffer, or a receiver writing into one copy, changes nothing else', () => {
    const sim = new Simulator({ seed: 1 });
    sim.addNode('a');
    sim.addNode('b');
    const net = SimNetwork.attach(sim, { packetReplayProbability: 1 });
    const got: Uint8Array[] = [];
    sim.node('b').env.net.onFrame((_from, frame) => {
      got.push(frame.slice());
      frame.fill(0);
    });
    const buffer = encodeFrame({ v: 'original' });
    sim.node('a').env.net.send('b', buffer);
    buffer.fill(0xff);
    sim.run();
    expect(got.length).toBe(2);
    for (const frame of got) expect(decodeFrame(frame)!.message).toEqual({ v: 'original' });
    expect(net.stats().duplicated).toBe(1);
  });

  it('reorders frames of one link through random delays, and never with fifoPerLink', () => {
    const loose = makeWorld(3, ['a', 'b']);
    for (let i = 0; i < 200; i++) loose.sim.schedule(i * 0.5, 'send', () => loose.send('a', 'b'));
    loose.sim.run();
    expect(loose.arrivals.length).toBe(200);
    expect(reordered(loose.arrivals)).toBe(true);

    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.boolean(), (seed, replay, clog) => {
        const w = makeWorld(seed, ['a', 'b', 'c'], { fifoPerLink: true, packetReplayProbability: replay });
        for (let i = 0; i < 100; i++) {
          w.sim.schedule(i * 0.3, 'send', () => {
            w.send('a', 'b');
            w.send('c', 'b');
          });
        }
        if (clog) w.sim.schedule(10, 'clog', () => w.net.clog('a', 'b', 7));
        w.sim.run();
        expect(w.arrivals.length).toBe(w.net.stats().delivered);
        expect(w.arrivals.length).toBeGreaterThanOrEqual(200);
        expect(reordered(w.arrivals)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('forces reordering by probability even when every delay is the same', () => {
    const run = (p: number): Arrival[] => {
      const w = makeWorld(5, ['a', 'b'], { oneWayDelayMinMs: 3, oneWayDelayMeanMs: 3, oneWayDelayMaxMs: 3, packetReorderProbability: p });
      for (let i = 0; i < 200; i++) w.sim.schedule(i * 0.25, 'send', () => w.send('a', 'b'));
      w.sim.run();
      expect(w.arrivals.length).toBe(200);
      return w.arrivals;
    };
    expect(reordered(run(0))).toBe(false);
    expect(reordered(run(0.2))).toBe(true);
  });
});

describe('SimNetwork partitions', () => {
  it('a symmetric partition blocks both directions between groups and heal restores', () => {
    const w = makeWorld(11, NODES);
    w.net.partition([['a', 'b'], ['c', 'd']]);
    const cut = reachability(w, NODES);
    const across = ['a>c', 'a>d', 'b>c', 'b>d', 'c>a', 'c>b', 'd>a', 'd>b'];
    expect(allPairs(NODES).filter((p) => !cut.has(p)).sort()).toEqual(across.sort());
    expect(w.net.canReach('a', 'c')).toBe(false);
    expect(w.net.canReach('e', 'a')).toBe(true);
    expect(w.net.stats().dropped.partition).toBe(8);
    w.net.heal();
    expect(reachability(w, NODES)).toEqual(new Set(allPairs(NODES)));
  });

  it('drops frames already in flight when a partition starts', () => {
    const w = makeWorld(12, ['a', 'b'], { oneWayDelayMinMs: 10, oneWayDelayMeanMs: 10, oneWayDelayMaxMs: 10 });
    w.send('a', 'b');
    w.send('b', 'a');
    w.sim.schedule(5, 'partition', () => w.net.partition([['a'], ['b']]));
    w.sim.run();
    expect(w.arrivals).toEqual([]);
    expect(w.net.stats().dropped.partition).toBe(2);
    expect(w.net.inFlight()).toBe(0);
  });

  it('a one-way partition blocks exactly one direction', () => {
    const w = makeWorld(13, NODES);
    w.net.partitionOneWay(['a'], ['b', 'c']);
    const got = reachability(w, NODES);
    expect(allPairs(NODES).filter((p) => !got.has(p)).sort()).toEqual(['a>b', 'a>c']);
    w.net.heal();
    expect(reachability(w, NODES)).toEqual(new Set(allPairs(NODES)));
  });

  it('isolating a node cuts it off both ways, and nodes still reach themselves', () => {
    const w = makeWorld(14, NODES);
    w.net.isolate('c');
    const got = reachability(w, NODES);
    expect(allPairs(NODES).filter((p) => !got.has(p)).sort()).toEqual(['a>c', 'b>c', 'c>a', 'c>b', 'c>d', 'c>e', 'd>c', 'e>c'].sort());
    w.send('c', 'c');
    w.sim.run();
    expect(w.arrivals.at(-1)).toMatchObject({ from: 'c', to: 'c' });
    w.net.heal();
    expect(reachability(w, NODES)).toEqual(new Set(allPairs(NODES)));
  });

  it('checks its arguments', () => {
    const w = makeWorld(15, NODES);
    expect(() => w.net.partition([['a', 'b'], ['b', 'c']])).toThrow(AssertionError);
    expect(() => w.net.partition([['a']])).toThrow(AssertionError);
    expect(() => w.net.partitionOneWay(['a'], ['a'])).toThrow(AssertionError);
  });

  it('random partitions come and go by the options, and quiesce ends them', () => {
    const w = makeWorld(16, NODES, {
      partitionMode: 'uniformSize',
      partitionProbability: 0.05,
      unpartitionProbability: 0.05,
      partitionStabilityMs: 50,
    });
    const seen = new Set<string>();
    let partitionedTicks = 0;
    const send = (): void => {
      for (const a of NODES) for (const b of NODES) if (a !== b) w.send(a, b);
      for (const p of w.net.describePartitions()) seen.add(p);
      if (w.net.describePartitions().length > 0) partitionedTicks++;
      if (w.sim.nowMs() < 5000) w.sim.schedule(10, 'send', send);
    };
    w.sim.schedule(0, 'send', send);
    w.sim.run({ untilMs: 5000 });
    expect(seen.size).toBeGreaterThan(3);
    expect(partitionedTicks).toBeGreaterThan(50);
    expect(partitionedTicks).toBeLessThan(450);
    expect(w.net.stats().dropped.partition).toBeGreaterThan(100);

    w.net.quiesce();
    expect(w.net.describePartitions()).toEqual([]);
    w.sim.run({ untilMs: 5100 });
    expect(w.sim.pendingEvents).toBe(0);
    expect(reachability(w, NODES)).toEqual(new Set(allPairs(NODES)));
  });

  it('an asymmetric random partition blocks one direction only', () => {
    const w = makeWorld(17, NODES, { partitionMode: 'isolateSingle', partitionSymmetry: 'asymmetric', partitionProbability: 1 });
    w.sim.run({ untilMs: 10 });
    const [only] = w.net.describePartitions();
    expect(only).toMatch(/^auto [a-e] -> /);
    const isolated = only!.slice(5, 6);
    const blocked = NODES.filter((n) => n !== isolated && !w.net.canReach(isolated, n));
    expect(blocked.length).toBe(4);
    expect(NODES.every((n) => w.net.canReach(n, isolated))).toBe(true);
  });
});

describe('SimNetwork packet faults', () => {
  it('loses frames at close to the configured rate', () => {
    const w = makeWorld(21, ['a', 'b'], { packetLossProbability: 0.2 });
    const n = 10_000;
    for (let i = 0; i < n; i++) w.send('a', 'b');
    w.sim.run();
    const stats = w.net.stats();
    expect(stats.dropped.loss + stats.delivered).toBe(n);
    expect(w.arrivals.length / n).toBeGreaterThan(0.78);
    expect(w.arrivals.length / n).toBeLessThan(0.82);
  });

  it('replays deliver a frame twice', () => {
    const w = makeWorld(22, ['a', 'b'], { packetReplayProbability: 1 });
    for (let i = 0; i < 50; i++) w.send('a', 'b');
    w.sim.run();
    const counts = new Map<number, number>();
    for (const x of w.arrivals) counts.set(x.seq, (counts.get(x.seq) ?? 0) + 1);
    expect(counts.size).toBe(50);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
    expect(w.net.stats()).toMatchObject({ sent: 50, duplicated: 50, delivered: 100 });
  });

  it('per-link faults apply to one direction only, and null removes them', () => {
    const w = makeWorld(23, ['a', 'b']);
    w.net.setLinkFaults('a', 'b', { packetLossProbability: 1 });
    expect(reachability(w, ['a', 'b'])).toEqual(new Set(['b>a']));
    w.net.setLinkFaults('a', 'b', null);
    expect(reachability(w, ['a', 'b'])).toEqual(new Set(['a>b', 'b>a']));
  });

  it('a full path drops what exceeds its capacity', () => {
    const w = makeWorld(24, ['a', 'b'], { pathMaximumCapacity: 3 });
    for (let i = 0; i < 10; i++) w.send('a', 'b');
    w.send('b', 'a');
    expect(w.net.inFlight()).toBe(4);
    w.sim.run();
    expect(w.arrivals.filter((x) => x.to === 'b').map((x) => x.seq).sort()).toEqual([0, 1, 2]);
    expect(w.net.stats().dropped.capacity).toBe(7);
  });

  it('a clogged path holds frames and loses none', () => {
    const w = makeWorld(25, ['a', 'b']);
    w.send('a', 'b');
    w.net.clog('a', 'b', 100);
    w.sim.schedule(50, 'send', () => w.send('a', 'b'));
    w.send('b', 'a');
    w.sim.run();
    const toB = w.arrivals.filter((x) => x.to === 'b');
    expect(toB.length).toBe(2);
    expect(toB.every((x) => x.at >= 100)).toBe(true);
    expect(w.arrivals.find((x) => x.to === 'a')!.at).toBeLessThan(100);
  });

  it('random clogs delay frames past the delay cap without losing them', () => {
    const clean = makeWorld(26, ['a', 'b', 'c']);
    const clogged = makeWorld(26, ['a', 'b', 'c'], { pathClogProbability: 0.05, pathClogDurationMeanMs: 50 });
    for (const w of [clean, clogged]) {
      for (let i = 0; i < 300; i++) w.sim.schedule(i, 'send', () => w.send('a', 'b'));
      w.sim.run({ untilMs: 2000 });
      expect(w.arrivals.length).toBe(300);
    }
    const delays = (w: World): number[] => w.arrivals.map((x) => x.at - w.sentAt.get(x.seq)!);
    const cap = clean.net.options().oneWayDelayMaxMs;
    expect(Math.max(...delays(clean))).toBeLessThanOrEqual(cap);
    expect(delays(clogged).filter((d) => d > cap).length).toBeGreaterThan(10);
  });

  it('quiesce turns every fault off', () => {
    const w = makeWorld(27, NODES, { packetLossProbability: 0.5, packetReplayProbability: 0.5, pathClogProbability: 0.1, partitionMode: 'isolateSingle', partitionProbability: 1 });
    w.net.setLinkFaults('a', 'b', { packetLossProbability: 1 });
    w.net.partitionOneWay(['c'], ['d']);
    w.sim.run({ untilMs: 100 });
    w.net.quiesce();
    const before = w.net.stats();
    expect(reachability(w, NODES)).toEqual(new Set(allPairs(NODES)));
    const after = w.net.stats();
    expect(after.delivered - before.delivered).toBe(20);
    expect(after.duplicated).toBe(before.duplicated);
  });

  it('rejects bad options', () => {
    const sim = new Simulator({ seed: 1 });
    expect(() => new SimNetwork(sim, { packetLossProbability: 1.5 })).toThrow(AssertionError);
    expect(() => new SimNetwork(sim, { oneWayDelayMinMs: 5, oneWayDelayMeanMs: 2 })).toThrow(AssertionError);
    expect(() => new SimNetwork(sim, { fifoPerLink: true, packetReorderProbability: 0.1 })).toThrow(AssertionError);
    expect(() => new SimNetwork(sim, { pathMaximumCapacity: 0 })).toThrow(AssertionError);
    const net = new SimNetwork(sim, { fifoPerLink: true });
    expect(() => net.setLinkFaults('a', 'b', { packetReorderProbability: 0.5 })).toThrow(AssertionError);
  });
});

describe('SimNetwork and node crashes', () => {
  it('a crashed node receives nothing; frames arriving after its restart reach the new incarnation', () => {
    const w = makeWorld(31, ['a', 'b'], { oneWayDelayMinMs: 10, oneWayDelayMeanMs: 10, oneWayDelayMaxMs: 10 });
    w.send('a', 'b'); // arrives at 10: b is down
    w.sim.schedule(5, 'send', () => w.send('a', 'b')); // arrives at 15: b is up again
    w.sim.schedule(1, 'crash', () => w.sim.crash('b'));
    w.sim.schedule(12, 'restart', () => {
      w.sim.restart('b');
      listen(w, 'b');
    });
    w.sim.run();
    expect(w.arrivals).toEqual([{ at: 15, from: 'a', to: 'b', seq: 1 }]);
    expect(w.net.stats().dropped.down).toBe(1);
    expect(w.net.inFlight()).toBe(0);
  });

  it('frames to a node that stays down are counted lost; a dead incarnation cannot send', () => {
    const w = makeWorld(32, ['a', 'b']);
    const oldB = w.sim.node('b').env.net;
    w.sim.crash('b');
    for (let i = 0; i < 5; i++) w.send('a', 'b');
    expect(w.net.inFlight()).toBe(5);
    w.sim.run();
    expect(w.arrivals).toEqual([]);
    expect(w.net.inFlight()).toBe(0);
    expect(w.net.stats().dropped.down).toBe(5);
    oldB.send('a', encodeFrame({ seq: 99 }));
    w.sim.restart('b');
    oldB.send('a', encodeFrame({ seq: 99 }));
    w.sim.run();
    expect(w.arrivals).toEqual([]);
    expect(w.net.stats().dropped.senderDown).toBe(2);
  });

  it('a restarted node without a handler yet drops what arrives; unknown nodes are unreachable', () => {
    const w = makeWorld(33, ['a', 'b']);
    w.sim.crash('b');
    w.sim.restart('b');
    w.send('a', 'b');
    w.send('a', 'nobody');
    w.sim.run();
    expect(w.net.stats().dropped).toMatchObject({ noHandler: 1, unknownNode: 1 });
  });
});

describe('SimNetwork determinism and the codec check', () => {
  const busyRun = (seed: number): { hash: string; arrivals: Arrival[] } => {
    const w = makeWorld(seed, NODES, {
      packetLossProbability: 0.1,
      packetReplayProbability: 0.1,
      packetReorderProbability: 0.05,
      partitionMode: 'uniformPartition',
      partitionProbability: 0.1,
      unpartitionProbability: 0.1,
      pathClogProbability: 0.01,
      pathMaximumCapacity: 20,
    });
    const rng = w.sim.rng.fork('workload');
    const step = (): void => {
      w.send(rng.pick(NODES), rng.pick(NODES));
      if (rng.chance(0.01)) {
        const id = rng.pick(NODES);
        if (w.sim.isUp(id)) {
          w.sim.crash(id);
          w.sim.schedule(rng.exponential(30), 'restart', () => {
            w.sim.restart(id);
            listen(w, id);
          });
        }
      }
      w.sim.schedule(rng.exponential(1), 'step', step);
    };
    w.sim.schedule(0, 'step', step);
    w.sim.run({ untilMs: 1500 });
    return { hash: w.sim.traceHash(), arrivals: w.arrivals };
  };

  it('the same seed gives the same deliveries and trace; another seed does not', () => {
    const first = busyRun(41);
    const again = busyRun(41);
    expect(again.hash).toBe(first.hash);
    expect(again.arrivals).toEqual(first.arrivals);
    expect(first.arrivals.length).toBeGreaterThan(500);
    expect(busyRun(42).hash).not.toBe(first.hash);
  });

  it('a frame corrupted in flight is a codec-bug crash, whichever bit flips', () => {
    fc.assert(
      fc.property(fc.integer(), fc.record({ k: fc.string(), v: fc.uint8Array({ maxLength: 40 }) }), (seed, message) => {
        const sim = new Simulator({ seed });
        sim.addNode('a');
        sim.addNode('b');
        const net = SimNetwork.attach(sim);
        let delivered = 0;
        sim.node('b').env.net.onFrame(() => delivered++);
        sim.node('a').env.net.send('b', encodeFrame(message));
        net.corruptNextFrame();
        sim.node('a').env.net.send('b', encodeFrame(message));
        expect(() => sim.run()).toThrow(FrameInFlightError);
        expect(delivered).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('names the codec failure', () => {
    const sim = new Simulator({ seed: 1 });
    sim.addNode('a');
    sim.addNode('b');
    const net = SimNetwork.attach(sim);
    sim.node('b').env.net.onFrame(() => {});
    net.corruptNextFrame();
    const frame = encodeFrame({ hello: 'world', n: 123456 });
    sim.node('a').env.net.send('b', frame);
    expect(() => sim.run()).toThrow(/codec bug: frame #1 a>b .*(FrameError|truncated|after its frame)/);

    const tail = new Uint8Array(frame.length + 1);
    tail.set(frame);
    sim.node('a').env.net.send('b', tail);
    expect(() => sim.run()).toThrow(/1 B after its frame/);

    sim.node('a').env.net.send('b', frame.subarray(0, frame.length - 1));
    expect(() => sim.run()).toThrow(/truncated/);

    sim.node('a').env.net.send('b', frame);
    sim.run();
    expect(net.stats().delivered).toBe(1);
  });
});
