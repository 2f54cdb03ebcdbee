// The anti-entropy bytes measurement at small sizes: the protocol finds
// exactly the 10 differing keys for far fewer bytes than the naive list, and
// the service's repair streams at least those 10 keys and leaves n3 level.

import { describe, expect, it } from 'vitest';
import { measureProtocolAt1M, measureServiceRepair, renderAntiEntropyBytes } from './anti_entropy_bytes.ts';

describe('anti-entropy bytes measurement', () => {
  it('measures the protocol and the service on small replicas', () => {
    const protocol = measureProtocolAt1M(20_000);
    expect(protocol.keysFound).toBe(10);
    expect(protocol.bytes).toBeLessThan(protocol.naiveBytes / 10);
    const service = measureServiceRepair(200);
    expect(service.pairs).toBe(48);
    expect(service.keysRepaired).toBeGreaterThanOrEqual(10);
    expect(service.bytes).toBeGreaterThan(0);
    expect(renderAntiEntropyBytes({ protocol, service })).toMatch(/protocol, 20,000 keys: [\d,]+ B in \d+ messages/);
  });
});
