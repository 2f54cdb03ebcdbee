import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRingProgress, encodeRingProgress } from './ring_progress_state.ts';

describe('ring progress app state', () => {
  it('round-trips any version and flag', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.boolean(), (topologyVersion, caughtUp) => {
        expect(decodeRingProgress(encodeRingProgress({ topologyVersion, caughtUp }))).toEqual({ topologyVersion, caughtUp });
      }),
    );
  });

  it('reads garbage and absence as nothing', () => {
    for (const s of [undefined, '', '1', '1.2', 'Z.1', '.1', '1.1.1', 'zzzzzzzzzzzz.1']) expect(decodeRingProgress(s)).toBeNull();
  });
});
