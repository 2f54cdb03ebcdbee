import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../io/frame_codec.ts';
import {
  GOSSIP_PROTOCOL,
  type GossipMessage,
  GossipWireError,
  decodeGossipFrame,
  decodeGossipPayload,
  encodeGossipFrame,
  encodeGossipPayload,
  isGossipPayload,
} from './gossip_messages.ts';
import { messageArb } from './gossip_message_arbitraries.testkit.ts';
import type { MemberDelta } from './member_state.ts';

function rejects(frameOrPayload: Uint8Array | unknown): boolean {
  try {
    if (frameOrPayload instanceof Uint8Array) decodeGossipFrame(frameOrPayload);
    else decodeGossipPayload(frameOrPayload);
    return false;
  } catch (err) {
    if (err instanceof GossipWireError) return true;
    throw err;
  }
}

const validDelta = { i: 'a', g: 1, f: 0, h: 4, s: ['normal', 1], k: [['0', '18446744073709551615'], 2], l: [0, 3] };
const validAck = { p: GOSSIP_PROTOCOL, v: 1, t: 'ack', c: 'ringkv', s: [validDelta], b: ['c', 3, 7, 9], r: ['b', 2, 0] };

describe('gossip messages', () => {
  it('property: every message survives encode and decode unchanged (deltas with fields first, then bare heartbeats)', () => {
    const fieldsFirst = (m: GossipMessage): GossipMessage => {
      if (m.t === 'syn') return m;
      const withFields = (d: MemberDelta): boolean => d.status !== undefined || d.tokens !== undefined || d.load !== undefined || d.app.length > 0;
      return { ...m, deltas: [...m.deltas.filter(withFields), ...m.deltas.filter((d) => !withFields(d))] };
    };
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(decodeGossipFrame(encodeGossipFrame(m))).toEqual(fieldsFirst(m));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a hand-written ACK (the documented layout)', () => {
    expect(decodeGossipPayload(validAck)).toEqual({
      t: 'ack',
      cluster: 'ringkv',
      deltas: [
        { nodeId: 'a', generation: 1, from: 0, heartbeat: 4, status: { value: 'normal', version: 1 }, tokens: { value: [0n, (1n << 64n) - 1n], version: 2 }, load: { value: 0, version: 3 }, app: [] },
        { nodeId: 'c', generation: 3, from: 7, heartbeat: 9, app: [] },
      ],
      requests: [{ nodeId: 'b', generation: 2, above: 0 }],
    });
  });

  it('tags payloads so a multiplexer can route them', () => {
    expect(isGossipPayload(encodeGossipPayload({ t: 'syn', cluster: 'c', digests: [] }))).toBe(true);
    expect(isGossipPayload({ v: 1, t: 'read', id: 1 })).toBe(false);
    expect(isGossipPayload(null)).toBe(false);
  });

  it('rejects each kind of malformed payload', () => {
    const bad: [string, unknown][] = [
      ['not a map', [1, 2]],
      ['another protocol', { ...validAck, p: 'kv' }],
      ['unknown version', { ...validAck, v: 2 }],
      ['unknown type', { ...validAck, t: 'nack' }],
      ['cluster not a string', { ...validAck, c: 5 }],
      ['requests not triples', { ...validAck, r: ['b', 2] }],
      ['negative generation in a request', { ...validAck, r: ['b', -1, 0] }],
      ['fractional version', { ...validAck, r: ['b', 1.5, 0] }],
      ['bigint version', { ...validAck, r: ['b', 1n, 0] }],
      ['empty node id', { ...validAck, r: ['', 1, 0] }],
      ['deltas not a list', { ...validAck, s: {} }],
      ['delta not a map', { ...validAck, s: [[1]] }],
      ['the same member twice', { ...validAck, s: [validDelta, validDelta] }],
      ['the same member as a delta and a beat', { ...validAck, b: ['a', 1, 4, 5] }],
      ['beats not quadruples', { ...validAck, b: ['c', 3, 7] }],
      ['a beat with a negative heartbeat', { ...validAck, b: ['c', 3, 7, -9] }],
      ['no beats list', { ...validAck, b: undefined }],
      ['unknown status', { ...validAck, s: [{ ...validDelta, s: ['down', 1] }] }],
      ['status not a pair', { ...validAck, s: [{ ...validDelta, s: ['normal'] }] }],
      ['token out of range', { ...validAck, s: [{ ...validDelta, k: [['18446744073709551616'], 2] }] }],
      ['token with a sign', { ...validAck, s: [{ ...validDelta, k: [['-1'], 2] }] }],
      ['token with a leading zero', { ...validAck, s: [{ ...validDelta, k: [['01'], 2] }] }],
      ['token as a number', { ...validAck, s: [{ ...validDelta, k: [[5], 2] }] }],
      ['negative load', { ...validAck, s: [{ ...validDelta, l: [-1, 3] }] }],
      ['infinite load', { ...validAck, s: [{ ...validDelta, l: [Number.POSITIVE_INFINITY, 3] }] }],
      ['a field not above from', { ...validAck, s: [{ ...validDelta, f: 2 }] }],
      ['application states not triples', { ...validAck, s: [{ ...validDelta, a: ['k', 'v'] }] }],
      ['an application state twice', { ...validAck, s: [{ ...validDelta, a: ['k', 'v', 5, 'k', 'w', 6] }] }],
      ['an empty application key', { ...validAck, s: [{ ...validDelta, a: ['', 'v', 5] }] }],
      ['missing heartbeat', { ...validAck, s: [{ ...validDelta, h: undefined }] }],
      ['SYN digests not triples', { p: GOSSIP_PROTOCOL, v: 1, t: 'syn', c: 'x', d: ['a', 1] }],
      ['SYN without digests', { p: GOSSIP_PROTOCOL, v: 1, t: 'syn', c: 'x' }],
    ];
    for (const [what, payload] of bad) expect(rejects(payload), what).toBe(true);
    expect(rejects(validAck)).toBe(false);
  });

  it('rejects frames that are short, corrupt, or followed by trailing bytes', () => {
    const frame = encodeGossipFrame({ t: 'syn', cluster: 'c', digests: [{ nodeId: 'a', generation: 1, maxVersion: 2 }] });
    expect(rejects(frame)).toBe(false);
    expect(rejects(frame.subarray(0, frame.length - 1))).toBe(true);
    expect(rejects(new Uint8Array(0))).toBe(true);
    const flipped = frame.slice();
    flipped[frame.length - 1]! ^= 0x10;
    expect(rejects(flipped)).toBe(true);
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    expect(rejects(longer)).toBe(true);
  });

  it('property: random bytes are rejected, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(rejects(bytes)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: any msgpack value in a well-formed frame decodes or is a GossipWireError', () => {
    const tagged = fc.record(
      { p: fc.constant(GOSSIP_PROTOCOL), v: fc.constantFrom(1, 2), t: fc.constantFrom('syn', 'ack', 'ack2', 'x'), c: fc.anything(), d: fc.anything(), s: fc.anything(), b: fc.anything(), r: fc.anything() },
      { requiredKeys: ['p', 'v', 't'] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), tagged), (value) => {
        let frame: Uint8Array;
        try {
          frame = encodeFrame(value);
        } catch {
          return; // not encodable at all: nothing could send it
        }
        rejects(frame); // returns or throws GossipWireError; anything else fails the property
      }),
      { numRuns: 1000 },
    );
  });

  it('property: a valid message with one field replaced by anything decodes or is rejected, never a crash', () => {
    fc.assert(
      fc.property(messageArb, fc.constantFrom('c', 'd', 's', 'b', 'r', 't', 'v'), fc.anything(), fc.nat(), fc.constantFrom('i', 'g', 'f', 'h', 's', 'k', 'l', 'a'), (m, key, value, at, deltaKey) => {
        const payload = encodeGossipPayload(m);
        const deltasOf = payload['s'];
        if (Array.isArray(deltasOf) && deltasOf.length > 0 && at % 2 === 0) {
          (deltasOf[at % deltasOf.length] as Record<string, unknown>)[deltaKey] = value;
        } else {
          payload[key] = value;
        }
        rejects(payload);
      }),
      { numRuns: 1000 },
    );
  });
});
