import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import {
  DEFAULT_PACKET_FAULT_OPTIONS,
  drawOneWayDelayMs,
  hasAutomaticFaults,
  quiescedOptions,
  randomPacketFaultOptions,
  validatePacketFaultOptions,
} from './packet_fault_options.ts';
import { SimRng } from './sim_rng.ts';

describe('packet fault options', () => {
  it('defaults are valid and fault-free', () => {
    validatePacketFaultOptions(DEFAULT_PACKET_FAULT_OPTIONS);
    expect(hasAutomaticFaults(DEFAULT_PACKET_FAULT_OPTIONS)).toBe(false);
    expect(DEFAULT_PACKET_FAULT_OPTIONS.packetLossProbability).toBe(0);
  });

  it('random options are always valid, and quiescing them leaves no fault', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const o = randomPacketFaultOptions(new SimRng(seed));
        const q = quiescedOptions(o);
        validatePacketFaultOptions(q);
        expect(hasAutomaticFaults(q)).toBe(false);
        expect([q.packetLossProbability, q.packetReplayProbability, q.packetReorderProbability]).toEqual([0, 0, 0]);
        expect(q.oneWayDelayMeanMs).toBe(o.oneWayDelayMeanMs);
      }),
    );
  });

  it('delays stay within [min, max]', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), (seed, min, a, b) => {
        const o = { ...DEFAULT_PACKET_FAULT_OPTIONS, oneWayDelayMinMs: min, oneWayDelayMeanMs: min + a, oneWayDelayMaxMs: min + a + b };
        const rng = new SimRng(seed);
        for (let i = 0; i < 20; i++) {
          const d = drawOneWayDelayMs(rng, o);
          expect(d).toBeGreaterThanOrEqual(min);
          expect(d).toBeLessThanOrEqual(o.oneWayDelayMaxMs);
        }
      }),
    );
  });

  it('rejects inconsistent options', () => {
    const bad = [
      { packetReplayProbability: -0.1 },
      { oneWayDelayMeanMs: 100 },
      { oneWayDelayMinMs: Number.NaN },
      { pathMaximumCapacity: 2.5 },
      { faultTickMs: 0 },
      { partitionMode: 'sometimes' as never },
      { fifoPerLink: true, packetReorderProbability: 0.5 },
    ];
    for (const b of bad) expect(() => validatePacketFaultOptions({ ...DEFAULT_PACKET_FAULT_OPTIONS, ...b })).toThrow(AssertionError);
  });
});
