import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../io/clock.ts';
import { VersionFormatError } from './errors.ts';
import {
  type Hlc,
  HybridLogicalClock,
  MAX_LOGICAL,
  compareHlc,
  compareNodeIds,
  decodeHlc,
  decodeHlcAt,
  encodeHlc,
  nodeIdProblem,
} from './hlc.ts';

class ManualClock implements Clock {
  constructor(public wall: number) {}
  monotonicMs(): number {
    return 0;
  }
  wallMs(): number {
    return this.wall;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

const nodeIdArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => nodeIdProblem(s) === null);
const hlcArb: fc.Arbitrary<Hlc> = fc.record({
  wallMs: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.maxSafeNat()),
  logical: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_LOGICAL })),
  nodeId: fc.oneof(fc.constantFrom('a', 'b', 'ab'), nodeIdArb),
});

describe('HybridLogicalClock on one node', () => {
  it('follows the wall clock when it advances and counts within a millisecond', () => {
    const clock = new ManualClock(1000);
    const hlc = new HybridLogicalClock(clock, 'n1');
    expect(hlc.now()).toEqual({ wallMs: 1000, logical: 0, nodeId: 'n1' });
    expect(hlc.now()).toEqual({ wallMs: 1000, logical: 1, nodeId: 'n1' });
    clock.wall = 1005;
    expect(hlc.now()).toEqual({ wallMs: 1005, logical: 0, nodeId: 'n1' });
  });

  it('stays ahead of its own past when the wall clock jumps back', () => {
    const clock = new ManualClock(5000);
    const hlc = new HybridLogicalClock(clock, 'n1');
    hlc.now();
    clock.wall = 1000;
    expect(hlc.now()).toEqual({ wallMs: 5000, logical: 1, nodeId: 'n1' });
  });

  it('is strictly increasing under any sequence of clock jumps', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -10_000, max: 10_000 }), fc.constant(0)), { maxLength: 200 }), (jumps) => {
        const clock = new ManualClock(1_000_000);
        const hlc = new HybridLogicalClock(clock, 'n1');
        let previous = hlc.now();
        for (const jump of jumps) {
          clock.wall = Math.max(0, clock.wall + jump);
          const next = hlc.now();
          expect(compareHlc(previous, next)).toBeLessThan(0);
          expect(next.wallMs).toBeGreaterThanOrEqual(clock.wall);
          previous = next;
        }
      }),
    );
  });

  it('rolls an exhausted logical counter into the next millisecond', () => {
    const clock = new ManualClock(10);
    const hlc = new HybridLogicalClock(clock, 'n1', { after: { wallMs: 10, logical: MAX_LOGICAL - 1, nodeId: 'n1' } });
    expect(hlc.now()).toEqual({ wallMs: 10, logical: MAX_LOGICAL, nodeId: 'n1' });
    expect(hlc.now()).toEqual({ wallMs: 11, logical: 0, nodeId: 'n1' });
    const received = hlc.update({ wallMs: 11, logical: MAX_LOGICAL, nodeId: 'n2' });
    expect(received).toEqual({ accepted: true, timestamp: { wallMs: 12, logical: 0, nodeId: 'n1' } });
  });

  it('resumes above the timestamp it was restarted after', () => {
    const clock = new ManualClock(100);
    const hlc = new HybridLogicalClock(clock, 'n1', { after: { wallMs: 900, logical: 4, nodeId: 'n1' } });
    expect(hlc.now()).toEqual({ wallMs: 900, logical: 5, nodeId: 'n1' });
  });
});

describe('HybridLogicalClock receiving', () => {
  it('applies the four receive cases of the paper', () => {
    const clock = new ManualClock(100);
    const hlc = new HybridLogicalClock(clock, 'n1', { maxSkewMs: 1000 });
    hlc.now(); // (100, 0)
    // Remote ahead of both: take its wall time, its counter + 1.
    expect(hlc.update({ wallMs: 150, logical: 7, nodeId: 'n2' })).toEqual({ accepted: true, timestamp: { wallMs: 150, logical: 8, nodeId: 'n1' } });
    // Same wall time as local and remote: max counter + 1.
    expect(hlc.update({ wallMs: 150, logical: 3, nodeId: 'n2' })).toEqual({ accepted: true, timestamp: { wallMs: 150, logical: 9, nodeId: 'n1' } });
    // Local ahead of remote: local counter + 1.
    expect(hlc.update({ wallMs: 120, logical: 50, nodeId: 'n2' })).toEqual({ accepted: true, timestamp: { wallMs: 150, logical: 10, nodeId: 'n1' } });
    // Physical clock ahead of both: counter resets.
    clock.wall = 200;
    expect(hlc.update({ wallMs: 190, logical: 2, nodeId: 'n2' })).toEqual({ accepted: true, timestamp: { wallMs: 200, logical: 0, nodeId: 'n1' } });
  });

  it('refuses a remote clock too far ahead and does not move', () => {
    const clock = new ManualClock(1_000);
    const hlc = new HybridLogicalClock(clock, 'n1', { maxSkewMs: 500 });
    hlc.now();
    const result = hlc.update({ wallMs: 1_000 + 86_400_000, logical: 0, nodeId: 'fast' });
    expect(result).toEqual({ accepted: false, aheadByMs: 86_400_000 });
    expect(hlc.rejected).toBe(1);
    expect(hlc.now()).toEqual({ wallMs: 1_000, logical: 1, nodeId: 'n1' });
    // At exactly the bound it is accepted, and the clock moves up to it.
    expect(hlc.update({ wallMs: 1_500, logical: 0, nodeId: 'fast' })).toEqual({ accepted: true, timestamp: { wallMs: 1_500, logical: 1, nodeId: 'n1' } });
  });

  type Op =
    | { t: 'jump'; node: number; delta: number }
    | { t: 'local'; node: number }
    | { t: 'send'; from: number; to: number }
    | { t: 'deliver'; pick: number };

  const opArb = (nodes: number): fc.Arbitrary<Op> =>
    fc.oneof(
      fc.record({ t: fc.constant('jump' as const), node: fc.nat(nodes - 1), delta: fc.integer({ min: -3_000, max: 3_000 }) }),
      fc.record({ t: fc.constant('local' as const), node: fc.nat(nodes - 1) }),
      fc.record({ t: fc.constant('send' as const), from: fc.nat(nodes - 1), to: fc.nat(nodes - 1) }),
      fc.record({ t: fc.constant('deliver' as const), pick: fc.nat() }),
    );

  const scenarioArb = fc.integer({ min: 2, max: 4 }).chain((nodes) =>
    fc.record({
      nodes: fc.constant(nodes),
      offsets: fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: nodes, maxLength: nodes }),
      maxSkewMs: fc.integer({ min: 0, max: 2_000 }),
      ops: fc.array(opArb(nodes), { minLength: 20, maxLength: 150, size: 'max' }),
    }),
  );

  it('orders every happened-before pair, stays monotonic and bounded under skew, jumps and message exchange', () => {
    const totals = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(scenarioArb, ({ nodes, offsets, maxSkewMs, ops }) => {
        const clocks = offsets.map((o) => new ManualClock(1_000_000 + o));
        const hlcs = clocks.map((c, i) => new HybridLogicalClock(c, `n${i}`, { maxSkewMs }));
        const vcs = clocks.map(() => new Array<number>(nodes).fill(0));
        const maxWallSeen = clocks.map((c) => c.wall);
        const last: (Hlc | null)[] = clocks.map(() => null);
        const events: { vc: number[]; hlc: Hlc }[] = [];
        const inFlight: { vc: number[]; hlc: Hlc; to: number }[] = [];

        const record = (node: number, hlc: Hlc): void => {
          vcs[node]![node]!++;
          const prev = last[node];
          if (prev) expect(compareHlc(prev, hlc)).toBeLessThan(0);
          last[node] = hlc;
          // One fast clock cannot drag a node further than maxSkewMs past its own wall readings.
          expect(hlc.wallMs).toBeLessThanOrEqual(maxWallSeen[node]! + maxSkewMs);
          events.push({ vc: [...vcs[node]!], hlc });
        };

        for (const op of ops) {
          if (op.t === 'jump') {
            const c = clocks[op.node]!;
            c.wall = Math.max(0, c.wall + op.delta);
            maxWallSeen[op.node] = Math.max(maxWallSeen[op.node]!, c.wall);
          } else if (op.t === 'local') {
            record(op.node, hlcs[op.node]!.now());
          } else if (op.t === 'send') {
            const ts = hlcs[op.from]!.now();
            record(op.from, ts);
            inFlight.push({ vc: [...vcs[op.from]!], hlc: ts, to: op.to });
          } else if (inFlight.length > 0) {
            const [msg] = inFlight.splice(op.pick % inFlight.length, 1);
            const receiver = hlcs[msg!.to]!;
            const result = receiver.update(msg!.hlc);
            const tooFarAhead = msg!.hlc.wallMs > clocks[msg!.to]!.wall + maxSkewMs;
            expect(result.accepted).toBe(!tooFarAhead);
            if (!result.accepted) totals.rejected++;
            if (result.accepted) {
              totals.accepted++;
              const vc = vcs[msg!.to]!;
              for (let k = 0; k < nodes; k++) vc[k] = Math.max(vc[k]!, msg!.vc[k]!);
              record(msg!.to, result.timestamp);
            }
          }
        }

        const happenedBefore = (a: number[], b: number[]): boolean => a.every((x, k) => x <= b[k]!) && a.some((x, k) => x < b[k]!);
        for (const e of events) {
          for (const f of events) {
            if (happenedBefore(e.vc, f.vc) && compareHlc(e.hlc, f.hlc) >= 0) {
              expect.fail(`${JSON.stringify(e)} happened before ${JSON.stringify(f)} but does not order below it`);
            }
          }
        }
      }),
      { numRuns: 120 },
    );
    // The runs must have exercised both sides of the skew bound.
    expect(totals.accepted).toBeGreaterThan(100);
    expect(totals.rejected).toBeGreaterThan(10);
  });
});

describe('HLC order and encoding', () => {
  it('orders node ids by code point, as their UTF-8 bytes do', () => {
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(nodeIdArb, nodeIdArb, (a, b) => {
        expect(sign(compareNodeIds(a, b))).toBe(sign(compareBytes(utf8.encode(a), utf8.encode(b))));
      }),
    );
    expect(compareNodeIds('\u{ffff}', '\u{10000}')).toBeLessThan(0);
    expect('\u{ffff}' < '\u{10000}').toBe(false);
  });

  it('is a total order: antisymmetric, transitive, zero only for equal timestamps', () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, hlcArb, (a, b, c) => {
        expect(sign(compareHlc(a, b))).toBe(-sign(compareHlc(b, a)));
        if (compareHlc(a, b) === 0) expect(a).toEqual(b);
        if (compareHlc(a, b) <= 0 && compareHlc(b, c) <= 0) expect(compareHlc(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('round-trips, and the bytewise order of encodings is the HLC order', () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, (a, b) => {
        const ea = encodeHlc(a);
        expect(decodeHlc(ea)).toEqual(a);
        expect(sign(compareBytes(ea, encodeHlc(b)))).toBe(sign(compareHlc(a, b)));
      }),
    );
  });

  // Short ASCII ids of one length often land on one slot of the table.
  const asciiHlcArb = hlcArb.chain((ts) => fc.stringMatching(/^[a-z0-9]{1,3}$/).map((nodeId) => ({ ...ts, nodeId })));
  it('decodes each of many node ids as itself, in place at any offset (recent ids are kept in a small table)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hlcArb, asciiHlcArb), { minLength: 1, maxLength: 150 }), fc.array(fc.nat(), { maxLength: 150 }), fc.uint8Array({ maxLength: 5 }), (stamps, picks, pad) => {
        const order = [...stamps.keys(), ...picks.map((p) => p % stamps.length)];
        for (const i of order) {
          const encoded = encodeHlc(stamps[i]!);
          const framed = Uint8Array.from([...pad, ...encoded, ...pad]);
          expect(decodeHlcAt(framed, pad.length, pad.length + encoded.length)).toEqual(stamps[i]);
          expect(decodeHlc(encoded)).toEqual(stamps[i]);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('refuses malformed bytes with a VersionFormatError', () => {
    const good = encodeHlc({ wallMs: 5, logical: 1, nodeId: 'n1' });
    expect(() => decodeHlc(good.subarray(0, 12))).toThrow(VersionFormatError);
    const badUtf8 = Uint8Array.from([...good.subarray(0, 12), 0xff]);
    expect(() => decodeHlc(badUtf8)).toThrow(VersionFormatError);
    const tooBig = good.slice();
    tooBig[0] = 0xff;
    expect(() => decodeHlc(tooBig)).toThrow(VersionFormatError);
    expect(() => decodeHlc(new Uint8Array(12 + 256).fill(0x61))).toThrow(VersionFormatError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          const ts = decodeHlc(bytes);
          expect(encodeHlc(ts)).toEqual(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(VersionFormatError);
        }
      }),
    );
  });

  it('refuses unusable node ids', () => {
    expect(nodeIdProblem('')).not.toBeNull();
    expect(nodeIdProblem('x'.repeat(256))).not.toBeNull();
    expect(nodeIdProblem('\ud800')).not.toBeNull();
    expect(nodeIdProblem(7)).not.toBeNull();
    expect(nodeIdProblem('node-1')).toBeNull();
    expect(() => new HybridLogicalClock(new ManualClock(0), '')).toThrow();
  });
});
