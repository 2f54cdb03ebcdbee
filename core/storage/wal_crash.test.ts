// The WAL on the simulated disk (sim/sim_disk.ts), which loses, keeps or
// tears unsynced bytes at a crash and rots bits at rest: no acknowledged
// record is lost, nothing but appended records comes back, and a crash alone
// never looks like mid-log corruption.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimDisk, type SimDiskHost } from '../../sim/sim_disk.ts';
import { SimRng } from '../../sim/sim_rng.ts';
import { readWal } from './wal_reader.ts';
import { WalWriter } from './wal_writer.ts';

/** Scheduled completions run when the test says; a crash drops them. */
class StepHost implements SimDiskHost {
  private queued: (() => void)[] = [];
  nowMs(): number {
    return 0;
  }
  schedule(_delayMs: number, _kind: string, fn: () => void): void {
    this.queued.push(fn);
  }
  runOne(): void {
    this.queued.shift()?.();
  }
  pending(): number {
    return this.queued.length;
  }
  drop(): void {
    this.queued = [];
  }
}

function record(index: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (index * 131 + i * 7) & 0xff;
  return out;
}

interface Outcome {
  appended: Uint8Array[];
  /** Index of the newest record whose durable append was acknowledged, -1 if none. */
  lastAcked: number;
}

function runUntilCrash(seed: number, blockBytes: number): { disk: SimDisk; outcome: Outcome } {
  const rng = new SimRng(seed);
  const host = new StepHost();
  const disk = new SimDisk(host, rng.fork('disk'), { syncLatencyMs: [0, 1] });
  const file = disk.create('000001.log');
  disk.syncDir(() => {});
  host.runOne();
  const writer = new WalWriter(file, { blockBytes });
  const outcome: Outcome = { appended: [], lastAcked: -1 };
  const steps = 20 + rng.int(80);
  for (let step = 0; step < steps; step++) {
    if (rng.chance(0.6)) {
      const index = outcome.appended.length;
      const size = rng.chance(0.1) ? rng.int(3 * blockBytes) : rng.int(300);
      const durable = rng.chance(0.7);
      outcome.appended.push(record(index, size));
      writer.append(record(index, size), durable, (err) => {
        expect(err).toBeNull();
        if (durable) outcome.lastAcked = Math.max(outcome.lastAcked, index);
      });
    } else if (host.pending() > 0) {
      host.runOne();
    }
  }
  host.drop();
  disk.crash(rng.fork('crash'));
  return { disk, outcome };
}

describe('WAL through crashes on the simulated disk', () => {
  it('keeps every acknowledged record, returns only appended records, and calls a crash a torn tail at worst', () => {
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(32_768, 1024, 512), (seed, blockBytes) => {
        const { disk, outcome } = runUntilCrash(seed, blockBytes);
        const replay = readWal(disk.open('000001.log'), { blockBytes });
        expect(replay.records.length).toBeGreaterThanOrEqual(outcome.lastAcked + 1);
        replay.records.forEach((r, i) => expect(Buffer.from(r).equals(Buffer.from(outcome.appended[i]!))).toBe(true));
        expect(replay.stopReason).not.toBe('corrupt');
        if (replay.stopReason === 'eof') expect(replay.droppedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('after bit rot at rest, still returns only a prefix of the appended records', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 4 }), (seed, flips) => {
        const { disk, outcome } = runUntilCrash(seed, 1024);
        if (disk.durableBytes('000001.log').length === 0) return;
        disk.flipRandomBits(new SimRng(seed).fork('rot'), flips);
        const replay = readWal(disk.open('000001.log'), { blockBytes: 1024 });
        replay.records.forEach((r, i) => expect(Buffer.from(r).equals(Buffer.from(outcome.appended[i]!))).toBe(true));
      }),
      { numRuns: 200 },
    );
  });
});
