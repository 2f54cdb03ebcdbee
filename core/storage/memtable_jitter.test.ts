import { describe, expect, it } from 'vitest';
import { Simulator } from '../../sim/simulator.ts';
import { Engine, type EngineOptions } from './engine.ts';

const MEMTABLE_BYTES = 8 * 1024;

/** The number of the write at which the engine first rotates its memtable (writes of ~100 bytes, one at a time). */
function firstRotationAt(opts: Partial<EngineOptions>): number {
  const sim = new Simulator({ seed: 'memtable-jitter' });
  const node = sim.addNode('n1');
  let engine: Engine | undefined;
  Engine.open(node.env, { syncWrites: false, memtableBytes: MEMTABLE_BYTES, compactionBytesPerSec: 0, ...opts }, (err, e) => {
    expect(err).toBeNull();
    engine = e;
  });
  sim.runUntil(() => engine !== undefined);
  const value = new Uint8Array(100).fill(7);
  for (let i = 0; i < 1000; i++) {
    engine!.put(new TextEncoder().encode(`key-${i}`), value, undefined, (err) => expect(err).toBeNull());
    sim.run({ maxEvents: 1000 });
    if (engine!.stats().flushesRun > 0) return i;
  }
  throw new Error('no rotation in 1000 writes');
}

describe('memtable jitter', () => {
  it('without jitter rotates exactly at memtableBytes, whatever the salt', () => {
    const at = firstRotationAt({ memtableJitter: 0, jitterSalt: 1 });
    expect(firstRotationAt({ memtableJitter: 0, jitterSalt: 987654 })).toBe(at);
    // ~100 B values plus key and bookkeeping: 8 KiB holds a few dozen.
    expect(at).toBeGreaterThan(20);
  });

  it('with jitter rotates earlier by at most the jitter fraction, at points that differ between salts', () => {
    const exact = firstRotationAt({ memtableJitter: 0 });
    const points = [1, 2, 3, 4, 5, 6, 7, 8].map((salt) => firstRotationAt({ memtableJitter: 0.5, jitterSalt: salt * 0x1234567 }));
    for (const p of points) {
      expect(p).toBeLessThanOrEqual(exact);
      expect(p).toBeGreaterThanOrEqual(Math.floor(exact / 2) - 1);
    }
    expect(new Set(points).size).toBeGreaterThanOrEqual(4);
  });

  it('rejects a jitter outside [0, 0.5]', () => {
    expect(() => firstRotationAt({ memtableJitter: 0.6 })).toThrow(/jitter/);
  });
});
