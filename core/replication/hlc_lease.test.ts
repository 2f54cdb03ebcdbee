import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../io/clock.ts';
import { type Hlc, compareHlc } from '../versioning/hlc.ts';
import { HlcLease, decodeCeiling, encodeCeiling } from './hlc_lease.ts';

class ManualClock implements Clock {
  constructor(public wall: number) {}
  monotonicMs(): number {
    return 0;
  }
  wallMs(): number {
    return this.wall;
  }
}

/** A disk for the ceiling: writes become durable when flushed; a crash loses unflushed ones. */
class CeilingDisk {
  durable = 0;
  pending: { ceiling: number; cb: (err: Error | null) => void }[] = [];
  persist = (ceiling: number, cb: (err: Error | null) => void): void => void this.pending.push({ ceiling, cb });
  flush(): void {
    const p = this.pending;
    this.pending = [];
    for (const w of p) {
      this.durable = Math.max(this.durable, w.ceiling);
      w.cb(null);
    }
  }
  crash(): void {
    this.pending = [];
  }
}

function openLease(clock: ManualClock, disk: CeilingDisk, leaseMs = 100): HlcLease {
  return new HlcLease(HlcLease.restoredClock(clock, 'n1', disk.durable), clock, disk.durable, leaseMs, disk.persist);
}

describe('HLC lease', () => {
  it('keeps timestamps increasing across crashes, whatever the wall clock does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ op: fc.constant('stamp' as const) }), fc.record({ op: fc.constant('flush' as const) }), fc.record({ op: fc.constant('crash' as const) }), fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: -5000, max: 300 }) })), { maxLength: 60 }),
        (ops) => {
          const clock = new ManualClock(1_700_000_000_000);
          const disk = new CeilingDisk();
          let lease = openLease(clock, disk);
          const issued: Hlc[] = [];
          for (const o of ops) {
            if (o.op === 'stamp') {
              lease.stamp((err, ts) => {
                expect(err).toBeNull();
                // Handed out only below a durable ceiling.
                expect(ts!.wallMs).toBeLessThan(disk.durable);
                issued.push(ts!);
              });
            } else if (o.op === 'flush') disk.flush();
            else if (o.op === 'tick') clock.wall += o.ms;
            else {
              disk.crash();
              lease = openLease(clock, disk);
            }
          }
          for (let i = 1; i < issued.length; i++) expect(compareHlc(issued[i - 1]!, issued[i]!)).toBeLessThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('renews ahead of time, so a steady stream of stamps does not wait', () => {
    const clock = new ManualClock(1_000_000);
    const disk = new CeilingDisk();
    const lease = openLease(clock, disk, 100);
    let got = 0;
    lease.stamp(() => got++);
    expect(got).toBe(0);
    disk.flush();
    expect(got).toBe(1);
    for (let i = 0; i < 20; i++) {
      clock.wall += 10;
      lease.stamp(() => got++);
      disk.flush();
    }
    expect(got).toBe(21);
    expect(lease.ceilingMs).toBeGreaterThan(clock.wall);
  });

  it('fails the waiting stamps when the ceiling cannot be persisted', () => {
    const clock = new ManualClock(1_000_000);
    const lease = new HlcLease(HlcLease.restoredClock(clock, 'n1', 0), clock, 0, 100, (_c, cb) => cb(new Error('disk full')));
    let error: Error | null = null;
    lease.stamp((err) => (error = err));
    expect(error).toEqual(new Error('disk full'));
  });

  it('encodes the ceiling, and reads damage as no ceiling', () => {
    expect(decodeCeiling(encodeCeiling(1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(decodeCeiling(undefined)).toBe(0);
    expect(decodeCeiling(Uint8Array.of(1, 2, 3))).toBe(0);
    expect(decodeCeiling(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))).toBe(0);
  });
});
