import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../io/frame_codec.ts';
import { emptyDvv, update } from '../versioning/dotted_version_vector.ts';
import { type VersionedValue, encodeVersionedValue, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';
import { type Message, WireError, decodeWireMessage, encodeWireMessage, encodeWireRequest } from './messages.ts';
import { rawFrame, rawPayload, wirePayload } from './wire_payload.testkit.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const lww: VersionedValue = { mode: 'lww', write: valueWrite({ wallMs: 1_700_000_000_000, logical: 3, nodeId: 'n1' }, enc('hello'), 1_700_000_100_000) };
const sib: VersionedValue = {
  mode: 'siblings',
  dvv: update(update(emptyDvv(), [], valueWrite({ wallMs: 5, logical: 0, nodeId: 'n2' }, enc('a')), 'n2'), [], tombstoneWrite({ wallMs: 6, logical: 0, nodeId: 'n1' }), 'n1'),
};

const samples: Message[] = [
  { t: 'read', id: 1, ks: 'default', key: enc('k'), hintFor: null },
  { t: 'read', id: 2, ks: 'default', key: enc('k'), hintFor: 'n3' },
  { t: 'read_ok', id: 3, value: lww, complete: true },
  { t: 'read_ok', id: 4, value: null, complete: false },
  { t: 'write', id: 5, ks: 'sib', key: enc('k'), value: sib, origin: 'client', hintFor: 'n4' },
  { t: 'write', id: 6, ks: 'default', key: enc('k'), value: lww, origin: 'repair', hintFor: null },
  { t: 'write_ok', id: 7 },
  { t: 'fail', id: 8, code: 'overloaded', message: 'full', definite: true },
  { t: 'scan', id: 9, ks: 'default', start: enc('a'), end: null, limit: 10, bulk: false },
  { t: 'scan', id: 11, ks: 'default', start: null, end: enc('z'), limit: 1, bulk: true },
  { t: 'scan_ok', id: 10, items: [{ key: enc('a'), value: lww }, { key: enc('b'), value: sib }], more: true },
  { t: 'forward', id: 11, op: 'put', ks: 'sib', key: enc('k'), value: new Uint8Array(0), level: 'QUORUM', w: null, ttlMs: 5, context: 'abc', budgetMs: 800 },
  { t: 'forward', id: 12, op: 'delete', ks: 'sib', key: enc('k'), value: null, level: null, w: 2, ttlMs: null, context: null, budgetMs: 1 },
  { t: 'forward_reply', id: 13, ok: true },
  { t: 'forward_reply', id: 14, ok: false, code: 'timeout', message: 'slow', definite: false, replied: 1, required: 2 },
  { t: 'ping', id: 15 },
  { t: 'pong', id: 2 ** 52 },
];

/** Plain arrays for comparison (decoded bytes are views of a Buffer). */
function plain(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
}

describe('wire messages', () => {
  it('round-trip every message type', () => {
    for (const m of samples) expect(plain(decodeWireMessage(encodeWireMessage(m)))).toEqual(plain(m));
  });

  it('encode to the bytes the generic frame encoder writes for the same payload', () => {
    const payload = wirePayload;
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const m of samples) expect(hex(encodeWireMessage(m)), m.t).toBe(hex(encodeFrame(payload(m))));
    const tomb: VersionedValue = { mode: 'lww', write: tombstoneWrite({ wallMs: 2 ** 40, logical: 70_000, nodeId: 'node-é' }) };
    const big: VersionedValue = { mode: 'lww', write: valueWrite({ wallMs: 1, logical: 0, nodeId: 'n1' }, new Uint8Array(70_000).fill(3), 2 ** 33) };
    for (const value of [tomb, big]) {
      const m: Message = { t: 'write', id: 2 ** 45, ks: 'default', key: enc('κλειδί'), value, origin: 'hint', hintFor: 'n2' };
      expect(hex(encodeWireMessage(m))).toBe(hex(encodeFrame(payload(m))));
    }
  });

  it('encode a request and its id apart to the bytes of the request with the id added last', () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const requests = samples.filter((m) => ['read', 'write', 'scan', 'forward', 'ping'].includes(m.t));
    expect(requests.length).toBeGreaterThan(5);
    fc.assert(
      fc.property(fc.constantFrom(...requests), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (m, id) => {
        const { id: _old, ...request } = m as Message & { t: 'read' };
        const bytes = encodeWireRequest(request, id);
        expect(hex(bytes)).toBe(hex(encodeWireMessage({ ...request, id } as Message)));
        expect(decodeWireMessage(bytes).id).toBe(id);
      }),
      { numRuns: 300 },
    );
    expect(() => encodeWireRequest({ t: 'ping', id: 3 } as unknown as { t: 'ping' }, 4)).toThrow(/gets its id/);
  });

  it('refuse well-framed payloads of the wrong shape', () => {
    const bad: Uint8Array[] = [
      encodeFrame(null),
      encodeFrame(42),
      encodeFrame([2, 10]),
      encodeFrame({ v: 2, t: 'ping', id: 1 }),
      encodeFrame(rawPayload('ping', 1, {}, 1)),
      encodeFrame([2, 99, 1]),
      encodeFrame([2, 0, 1]),
      encodeFrame([2, 10, 1, null]),
      encodeFrame([2, 1, 1, 'd', enc('k')]),
      rawFrame('ping', {}, -1),
      rawFrame('ping', {}, 1.5),
      rawFrame('read', { ks: '', key: enc('k') }),
      rawFrame('read', { ks: 'd', key: new Uint8Array(0) }),
      rawFrame('read', { ks: 'd', key: enc('k'), hintFor: '' }),
      rawFrame('read', { ks: 'd', key: 'k' }),
      rawFrame('read_ok', { value: enc('garbage'), complete: true }),
      rawFrame('read_ok', { value: null, complete: 1 }),
      rawFrame('write', { ks: 'd', key: enc('k'), value: enc('x'), origin: 'client' }),
      rawFrame('write', { ks: 'd', key: enc('k'), value: encodeVersionedValue(lww), origin: 'elsewhere' }),
      rawFrame('fail', { code: 'boom', message: 'x', definite: true }),
      rawFrame('fail', { code: 'timeout', message: 'x', definite: 'yes' }),
      rawFrame('scan', { ks: 'd', limit: 0, bulk: false }),
      rawFrame('scan', { ks: 'd', limit: 1e9, bulk: false }),
      rawFrame('scan', { ks: 'd', limit: 5, bulk: 1 }),
      rawFrame('scan_ok', { items: [[enc('k')]], more: false }),
      rawFrame('forward', { op: 'put', ks: 'd', key: enc('k'), value: null, level: null, budgetMs: 5 }),
      rawFrame('forward', { op: 'delete', ks: 'd', key: enc('k'), value: enc('v'), level: null, budgetMs: 5 }),
      rawFrame('forward', { op: 'put', ks: 'd', key: enc('k'), value: enc('v'), level: 'MOST', budgetMs: 5 }),
      rawFrame('forward', { op: 'put', ks: 'd', key: enc('k'), value: enc('v'), level: null, budgetMs: 0 }),
      rawFrame('forward_reply', { ok: 'maybe' }),
      rawFrame('forward_reply', { ok: true, code: 'timeout' }),
    ];
    expect(() => decodeWireMessage(rawFrame('forward_reply', { ok: true }))).not.toThrow();
    bad.forEach((frame, i) => expect(() => decodeWireMessage(frame), `case ${i}`).toThrow(WireError));
  });

  it('refuse truncated, extended and corrupted frames', () => {
    const frame = encodeWireMessage(samples[4]!);
    expect(() => decodeWireMessage(frame.subarray(0, frame.length - 1))).toThrow(WireError);
    expect(() => decodeWireMessage(new Uint8Array([...frame, 0]))).toThrow(WireError);
    const flipped = frame.slice();
    flipped[frame.length - 3]! ^= 0x10;
    expect(() => decodeWireMessage(flipped)).toThrow(WireError);
  });

  it('never throw anything but WireError on arbitrary bytes or arbitrary msgpack values', () => {
    const decodeOrWireError = (frame: Uint8Array): void => {
      try {
        decodeWireMessage(frame);
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodeOrWireError), { numRuns: 2000 });
    fc.assert(fc.property(fc.anything({ withTypedArray: true, withNullPrototype: true }), (x) => decodeOrWireError(encodeFrame(x))), { numRuns: 2000 });
    // Valid messages with one field replaced by anything.
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.string({ maxLength: 10 }), fc.anything({ withTypedArray: true }), (m, field, value) => {
        const raw = wirePayload(m);
        raw[field.length % raw.length] = value;
        decodeOrWireError(encodeFrame(raw));
      }),
      { numRuns: 2000 },
    );
  });
});
