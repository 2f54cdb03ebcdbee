import { describe, expect, it } from 'vitest';
import { SIM_EPOCH_MS } from '../../sim/sim_clock.ts';
import { Simulator } from '../../sim/simulator.ts';
import type { Env } from '../../io/env.ts';
import { Engine } from '../storage/engine.ts';
import { type VersionedValue, valueWrite } from '../versioning/versioned_value.ts';
import { HintLimitError, HintQueue, type HintOptions } from './hint_queue.ts';
import { RecordWriter } from './record_writer.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const version = (wall: number, text: string): VersionedValue => ({ mode: 'lww', write: valueWrite({ wallMs: SIM_EPOCH_MS + wall, logical: 0, nodeId: 'c' }, enc(text)) });
const OPTIONS: HintOptions = { windowMs: 10_000, maxPerTarget: 3, replayBytesPerSec: 1_000_000, maxInflightPerTarget: 2 };

function setup(options: HintOptions = OPTIONS) {
  const sim = new Simulator({ seed: 'hints' });
  sim.addNode('n1', { disk: { syncLatencyMs: [0.5, 2] } });
  const open = (env: Env) => {
    let engine: Engine | undefined;
    Engine.open(env, {}, (err, e) => {
      if (err) throw err;
      engine = e;
    });
    sim.runUntil(() => engine !== undefined);
    const writer = new RecordWriter(engine!);
    return { engine: engine!, writer, queue: HintQueue.load(engine!, writer, env.clock, options) };
  };
  const store = (q: HintQueue, key: string, target: string, v: VersionedValue): Error | null => {
    let result: Error | null | undefined;
    q.store('ks', enc(key), target, v, (err) => (result = err));
    sim.runUntil(() => result !== undefined);
    return result!;
  };
  return { sim, open, store, env: () => sim.node('n1').env };
}

describe('hint queue', () => {
  it('merges hints per key and target, bounds each target, and survives a restart', () => {
    const { sim, open, store, env } = setup();
    const { queue } = open(env());
    expect(store(queue, 'a', 'n2', version(1, 'x'))).toBeNull();
    expect(store(queue, 'a', 'n2', version(2, 'y'))).toBeNull();
    expect(store(queue, 'b', 'n2', version(1, 'x'))).toBeNull();
    expect(store(queue, 'c', 'n2', version(1, 'x'))).toBeNull();
    expect(store(queue, 'd', 'n2', version(1, 'x'))).toBeInstanceOf(HintLimitError);
    expect(store(queue, 'a', 'n2', version(3, 'z'))).toBeNull(); // an existing hint still merges
    expect(store(queue, 'd', 'n3', version(1, 'x'))).toBeNull();
    expect(queue.pending()).toEqual(new Map([['n2', 3], ['n3', 1]]));
    expect(queue.read('ks', enc('a'), 'n2')).toEqual(version(3, 'z'));
    expect(queue.stats.refused).toBe(1);
    sim.crash('n1');
    sim.restart('n1');
    const reopened = open(env()).queue;
    expect(reopened.pending()).toEqual(new Map([['n2', 3], ['n3', 1]]));
    expect(reopened.read('ks', enc('a'), 'n2')).toEqual(version(3, 'z'));
  });

  it('replays to targets that are up, deletes on acknowledgement, keeps a hint that changed in flight', () => {
    const { sim, open, store, env } = setup();
    const { queue } = open(env());
    store(queue, 'a', 'n2', version(1, 'x'));
    store(queue, 'b', 'n2', version(1, 'x'));
    store(queue, 'c', 'n3', version(1, 'x'));
    const sent: { target: string; key: string; done: (ok: boolean) => void }[] = [];
    const sender = (target: string, _ks: string, key: Uint8Array, _v: VersionedValue, done: (ok: boolean) => void) =>
      sent.push({ target, key: new TextDecoder().decode(key), done });
    sim.run({ untilMs: sim.nowMs() + 100 });
    queue.replay((node) => node === 'n2', sender);
    expect(sent.map((s) => `${s.target}:${s.key}`)).toEqual(['n2:a', 'n2:b']);
    queue.replay((node) => node === 'n2', sender); // both in flight: nothing more
    expect(sent.length).toBe(2);
    store(queue, 'b', 'n2', version(2, 'y')); // changes while in flight
    sent[0]!.done(true);
    sent[1]!.done(true);
    sim.run({ untilMs: sim.nowMs() + 100 });
    expect(queue.pending()).toEqual(new Map([['n2', 1], ['n3', 1]]));
    expect(queue.read('ks', enc('a'), 'n2')).toBeNull();
    expect(queue.read('ks', enc('b'), 'n2')).toEqual(version(2, 'y'));
    queue.replay((node) => node === 'n2', sender);
    expect(sent.map((s) => `${s.target}:${s.key}`)).toEqual(['n2:a', 'n2:b', 'n2:b']);
    sent[2]!.done(false); // not acknowledged: stays
    expect(queue.pending().get('n2')).toBe(1);
    expect(queue.stats.replayed).toBe(1);
  });

  it('drops hints older than the window', () => {
    const { sim, open, store, env } = setup();
    const { queue } = open(env());
    store(queue, 'a', 'n2', version(1, 'x'));
    sim.run({ untilMs: sim.nowMs() + 5_000 });
    store(queue, 'b', 'n2', version(1, 'x'));
    sim.run({ untilMs: sim.nowMs() + 6_000 });
    queue.replay(() => false, () => expect.unreachable('nothing is up'));
    expect(queue.pending()).toEqual(new Map([['n2', 1]]));
    expect(queue.stats.expired).toBe(1);
  });

  it('paces replay by bytes per second', () => {
    const rate = 2_000;
    const { sim, open, store, env } = setup({ ...OPTIONS, maxPerTarget: 1000, replayBytesPerSec: rate, maxInflightPerTarget: 1000 });
    const { queue } = open(env());
    for (let i = 0; i < 200; i++) store(queue, `key${i}`, 'n2', version(1, 'v'.repeat(50)));
    let bytes = 0;
    let sentCount = 0;
    const start = sim.nowMs();
    for (let t = 0; t < 20; t++) {
      sim.run({ untilMs: sim.nowMs() + 100 });
      queue.replay(() => true, (_t, _ks, _k, v, done) => {
        sentCount++;
        bytes += 8 + 50 + 30; // about a record's size
        done(true);
        void v;
      });
    }
    const seconds = (sim.nowMs() - start) / 1000;
    expect(sentCount).toBeGreaterThan(0);
    expect(sentCount).toBeLessThan(200);
    // Never more than the rate allows plus one bucket.
    expect(bytes).toBeLessThanOrEqual(rate * seconds + rate + 200);
    expect(bytes).toBeGreaterThanOrEqual(rate * seconds * 0.5);
  });
});
