// Merkle exchange messages inside peer frames (replication/messages.ts):
// they round-trip, and a frame whose merkle body does not validate is a
// WireError, never a half-built message.

import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../io/frame_codec.ts';
import { WireError, decodeWireMessage, encodeWireMessage } from '../replication/messages.ts';
import { rawFrame } from '../replication/wire_payload.testkit.ts';
import type { MerkleMessage } from './merkle_messages.ts';

const samples: MerkleMessage[] = [
  { type: 'merkle_root', exchange: 7, range: new Uint8Array(16).fill(3), leafBits: 12, fanoutBits: 4, hash: new Uint8Array(8).fill(9) },
  { type: 'merkle_nodes', exchange: 7, level: 2, parents: [1, 5], hashes: new Uint8Array(2 * 16 * 8).fill(1) },
  { type: 'merkle_keys', exchange: 7, segments: [3, 4], counts: [1, 1], keys: [Uint8Array.of(1), Uint8Array.of(2, 3)], hashes: new Uint8Array(16).fill(4), last: true },
  { type: 'merkle_key_diff', exchange: 7, send: [Uint8Array.of(1)], want: [], last: false },
  { type: 'merkle_in_sync', exchange: 7 },
  { type: 'merkle_abort', exchange: 7, reason: 'range differs' },
];

function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_, v) => (v instanceof Uint8Array ? [...v] : v)));
}

describe('merkle messages on the wire', () => {
  it('round-trip as requests and replies', () => {
    for (const body of samples) {
      const request = decodeWireMessage(encodeWireMessage({ t: 'merkle', id: 5, ks: 'default', body }));
      expect(plain(request)).toEqual(plain({ t: 'merkle', id: 5, ks: 'default', body }));
    }
    const reply = decodeWireMessage(encodeWireMessage({ t: 'merkle_reply', id: 6, body: samples }));
    expect(plain(reply)).toEqual(plain({ t: 'merkle_reply', id: 6, body: samples }));
  });

  it('refuse malformed bodies', () => {
    const bad: unknown[] = [
      { type: 'merkle_root', exchange: 7, range: new Uint8Array(15), leafBits: 12, fanoutBits: 4, hash: new Uint8Array(8) },
      { type: 'merkle_nodes', exchange: 7, level: 1, parents: [5, 1], hashes: new Uint8Array(8) },
      { type: 'merkle_keys', exchange: 7, segments: [1], counts: [2], keys: [Uint8Array.of(1)], hashes: new Uint8Array(8), last: true },
      { type: 'merkle_nope', exchange: 7 },
      { type: 'merkle_in_sync', exchange: -1 },
      'merkle_in_sync',
    ];
    for (const body of bad) expect(() => decodeWireMessage(rawFrame('merkle', { ks: 'default', body: encodeMessage(body) }))).toThrow(WireError);
    // A body that is not msgpack at all, or not bytes.
    expect(() => decodeWireMessage(rawFrame('merkle', { ks: 'default', body: Uint8Array.of(0xc1) }))).toThrow(WireError);
    expect(() => decodeWireMessage(rawFrame('merkle', { ks: 'default', body: { type: 'merkle_in_sync', exchange: 1 } }))).toThrow(WireError);
    expect(() => decodeWireMessage(rawFrame('merkle_reply', { body: 'x' }))).toThrow(WireError);
    expect(() => decodeWireMessage(rawFrame('merkle_reply', { body: new Array(17).fill(encodeMessage({ type: 'merkle_in_sync', exchange: 1 })) }))).toThrow(WireError);
    expect(() => decodeWireMessage(rawFrame('merkle_reply', { body: new Array(16).fill(encodeMessage({ type: 'merkle_in_sync', exchange: 1 })) }))).not.toThrow();
  });
});
