// Keeps a node's HLC monotonic across restarts. The clock's state is not
// written on every tick; instead a ceiling is persisted ahead of it (a lease,
// as in Spanner's and CockroachDB's persisted upper bounds), and no timestamp
// at or above the durable ceiling is handed out until a higher ceiling is
// durable. After a crash the clock restarts at the persisted ceiling, above
// every timestamp issued before. The lease is short, well under the HLC's
// skew bound, so a restarted node is never further ahead of its wall clock
// than peers accept.

import { assert } from '../../io/assert.ts';
import type { Clock } from '../../io/clock.ts';
import { type Hlc, HybridLogicalClock } from '../versioning/hlc.ts';

export const DEFAULT_HLC_LEASE_MS = 200;

export class HlcLease {
  private durableCeiling: number;
  private renewing = false;
  private waiters: { ts: Hlc; cb: (err: Error | null, ts?: Hlc) => void }[] = [];

  constructor(
    readonly hlc: HybridLogicalClock,
    private readonly clock: Clock,
    /** The ceiling restored at open (0 for a new node). */
    ceilingMs: number,
    private readonly leaseMs: number,
    /** Makes a new ceiling durable. */
    private readonly persist: (ceilingMs: number, cb: (err: Error | null) => void) => void,
  ) {
    assert(Number.isSafeInteger(leaseMs) && leaseMs >= 1 && leaseMs < hlc.maxSkewMs, `lease ${leaseMs} must be in 1..maxSkew`);
    this.durableCeiling = ceilingMs;
  }

  /** The HLC to build at open from a persisted ceiling. */
  static restoredClock(clock: Clock, nodeId: string, ceilingMs: number, maxSkewMs?: number): HybridLogicalClock {
    return new HybridLogicalClock(clock, nodeId, {
      ...(maxSkewMs !== undefined ? { maxSkewMs } : {}),
      ...(ceilingMs > 0 ? { after: { wallMs: ceilingMs, logical: 0, nodeId } } : {}),
    });
  }

  get ceilingMs(): number {
    return this.durableCeiling;
  }

  /** A timestamp for a write, handed out once it is below the durable ceiling. */
  stamp(cb: (err: Error | null, ts?: Hlc) => void): void {
    const ts = this.hlc.now();
    if (ts.wallMs < this.durableCeiling) {
      if (ts.wallMs >= this.durableCeiling - this.leaseMs / 2) this.renew();
      cb(null, ts);
      return;
    }
    this.waiters.push({ ts, cb });
    this.renew();
  }

  private renew(): void {
    if (this.renewing) return;
    this.renewing = true;
    const target = Math.max(this.hlc.last().wallMs, Math.floor(this.clock.wallMs())) + this.leaseMs;
    this.persist(target, (err) => {
      this.renewing = false;
      if (err !== null) {
        const failed = this.waiters;
        this.waiters = [];
        for (const w of failed) w.cb(err);
        return;
      }
      if (target > this.durableCeiling) this.durableCeiling = target;
      const ready = this.waiters.filter((w) => w.ts.wallMs < this.durableCeiling);
      this.waiters = this.waiters.filter((w) => w.ts.wallMs >= this.durableCeiling);
      for (const w of ready) w.cb(null, w.ts);
      if (this.waiters.length > 0) this.renew();
    });
  }
}

const LEASE_BYTES = 8;

export function encodeCeiling(ceilingMs: number): Uint8Array {
  assert(Number.isSafeInteger(ceilingMs) && ceilingMs >= 0, `ceiling ${ceilingMs}`);
  const out = new Uint8Array(LEASE_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(ceilingMs / 0x1_0000_0000), false);
  view.setUint32(4, ceilingMs >>> 0, false);
  return out;
}

/** The ceiling in a stored record; 0 when absent or unreadable (then the wall clock is all there is). */
export function decodeCeiling(bytes: Uint8Array | undefined): number {
  if (bytes === undefined || bytes.length !== LEASE_BYTES) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(0, false);
  if (high > 0x1f_ffff) return 0;
  return high * 0x1_0000_0000 + view.getUint32(4, false);
}
