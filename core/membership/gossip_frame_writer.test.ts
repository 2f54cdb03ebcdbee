import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeGossipFrameGeneric } from './gossip_messages.ts';
import { writeGossipFrame } from './gossip_frame_writer.ts';
import { messageArb } from './gossip_message_arbitraries.testkit.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('gossip frame writer', () => {
  it('property: writes the very bytes msgpackr writes for the same payload', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(hex(writeGossipFrame(m))).toBe(hex(encodeGossipFrameGeneric(m)));
      }),
      { numRuns: 1500 },
    );
  });

  it('writes each string and number width as msgpackr does', () => {
    const long = 'x'.repeat(300);
    const m = {
      t: 'ack2' as const,
      cluster: 'é'.repeat(20), // 20 code units, 40 bytes: a str8 after a fixstr was assumed
      deltas: [
        { nodeId: long, generation: 2 ** 40, from: 0, heartbeat: 65_536, status: { value: 'normal' as const, version: 255 }, tokens: { value: [0n, (1n << 64n) - 1n], version: 256 }, load: { value: 0.5, version: 300 }, app: [{ key: 'k', value: '\ud800'.repeat(70), version: 301 }] },
        { nodeId: 'n1', generation: 127, from: 128, heartbeat: 2 ** 32 - 1, app: [] },
      ],
    };
    expect(hex(writeGossipFrame(m))).toBe(hex(encodeGossipFrameGeneric(m)));
  });

  it('returns a fresh frame each time (the scratch buffer is never handed out)', () => {
    const a = writeGossipFrame({ t: 'syn', cluster: 'ringkv', digests: [{ nodeId: 'n1', generation: 1, maxVersion: 2 }] });
    const copy = a.slice();
    writeGossipFrame({ t: 'syn', cluster: 'other', digests: [{ nodeId: 'n2', generation: 9, maxVersion: 9 }] });
    expect(a).toEqual(copy);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.length);
  });

  it('grows past its scratch buffer for a large message', () => {
    const digests = Array.from({ length: 5000 }, (_, i) => ({ nodeId: `node-${i}`, generation: i, maxVersion: 3 * i }));
    const m = { t: 'syn' as const, cluster: 'ringkv', digests };
    expect(hex(writeGossipFrame(m))).toBe(hex(encodeGossipFrameGeneric(m)));
  });
});
