// The stream / stream_ok peer messages (core/replication/messages.ts): they
// round-trip, encode as the generic frame encoder would, and the decoder
// refuses malformed ranges and page sizes.

import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../io/frame_codec.ts';
import { type Message, WireError, decodeWireMessage, encodeWireMessage } from '../replication/messages.ts';
import { rawFrame, wirePayload } from '../replication/wire_payload.testkit.ts';
import { type VersionedValue, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';
import { MAX_PAGE_BYTES, encodeRanges } from './range_pages.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const value: VersionedValue = { mode: 'lww', write: valueWrite({ wallMs: 1_700_000_000_000, logical: 1, nodeId: 'n1' }, enc('v')) };
const tomb: VersionedValue = { mode: 'lww', write: tombstoneWrite({ wallMs: 5, logical: 0, nodeId: 'n2' }) };
const ranges = encodeRanges([
  { start: 5n, end: 2n ** 63n },
  { start: 2n ** 64n - 1n, end: 3n },
]);

const samples: Message[] = [
  { t: 'stream', id: 1, ks: 'default', ranges, after: null, maxBytes: 65536 },
  { t: 'stream', id: 2, ks: 'default', ranges, after: enc('k9'), maxBytes: 1 },
  { t: 'stream_ok', id: 3, items: [{ key: enc('a'), value }, { key: enc('b'), value: tomb }], next: enc('b') },
  { t: 'stream_ok', id: 4, items: [], next: null },
];

const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function frame(fields: Record<string, unknown>): Uint8Array {
  return rawFrame(fields['t'] as 'stream' | 'stream_ok', fields);
}

describe('stream messages', () => {
  it('round-trip, with the bytes of the generic frame encoder', () => {
    for (const m of samples) {
      expect(plain(decodeWireMessage(encodeWireMessage(m)))).toEqual(plain(m));
      expect(hex(encodeWireMessage(m))).toBe(hex(encodeFrame(wirePayload(m))));
    }
  });

  it('refuse malformed ranges, page sizes and items', () => {
    const good = { t: 'stream', ks: 'default', ranges, after: null, maxBytes: 100 };
    expect(() => decodeWireMessage(frame(good))).not.toThrow();
    for (const bad of [
      { ...good, ranges: new Uint8Array(15) },
      { ...good, ranges: new Uint8Array(0) },
      { ...good, ranges: 'x' },
      { ...good, maxBytes: 0 },
      { ...good, maxBytes: MAX_PAGE_BYTES + 1 },
      { ...good, maxBytes: 1.5 },
      { ...good, after: 7 },
      { t: 'stream_ok', items: [[enc('a')]], next: null },
      { t: 'stream_ok', items: [[enc('a'), enc('not a version')]], next: null },
      { t: 'stream_ok', items: 'nope', next: null },
    ]) {
      expect(() => decodeWireMessage(frame(bad)), JSON.stringify(plain(bad))).toThrow(WireError);
    }
  });
});
