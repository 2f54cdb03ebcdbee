import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc } from '../../io/crc32c.ts';
import { FRAME_HEADER_BYTES, encodeFrame } from '../../io/frame_codec.ts';
import { GOSSIP_PROTOCOL, type GossipMessage, GossipWireError, decodeGossipFrame, decodeGossipFrameGeneric, encodeGossipPayload } from './gossip_messages.ts';
import { readGossipPayload } from './gossip_frame_reader.ts';
import { writeGossipFrame } from './gossip_frame_writer.ts';
import { messageArb } from './gossip_message_arbitraries.testkit.ts';

type Outcome = { ok: GossipMessage } | { rejected: true };

function outcome(decode: (frame: Uint8Array) => GossipMessage, frame: Uint8Array): Outcome {
  try {
    return { ok: decode(frame) };
  } catch (err) {
    if (err instanceof GossipWireError) return { rejected: true };
    throw err;
  }
}

/** The direct reader and the generic path (msgpackr + decodeGossipPayload) give the same message or both reject. */
function agree(frame: Uint8Array): void {
  expect(outcome(decodeGossipFrame, frame)).toEqual(outcome(decodeGossipFrameGeneric, frame));
}

/** A frame around any payload bytes, with a valid checksum (so the payload itself is what is tested). */
function reframe(frame: Uint8Array, mutate: (payload: Uint8Array) => Uint8Array): Uint8Array {
  const payload = mutate(frame.slice(FRAME_HEADER_BYTES));
  const framed = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  framed.set(payload, FRAME_HEADER_BYTES);
  const view = new DataView(framed.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, maskCrc(crc32c(payload)), true);
  return framed;
}

describe('gossip frame reader', () => {
  it('property: reads what the writer writes directly, equal to the generic decoding', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = writeGossipFrame(m);
        const generic = decodeGossipFrameGeneric(frame);
        const ascii = /^[\x00-\x7f]*$/;
        const allAscii = JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).split('').every((c) => ascii.test(c));
        const direct = readGossipPayload(frame, FRAME_HEADER_BYTES, frame.length);
        // Non-ASCII text is left to msgpackr's UTF-8 decoding; everything else is read directly.
        if (allAscii) expect(direct).toEqual(generic);
        else expect(direct === null || JSON.stringify(direct, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(generic, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(true);
        expect(decodeGossipFrame(frame)).toEqual(generic);
      }),
      { numRuns: 800 },
    );
  });

  it('property: a payload with bytes flipped, cut or inserted is decoded as the generic path decodes it (or rejected by both)', () => {
    fc.assert(
      fc.property(messageArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 4 }), (m, edits) => {
        const frame = reframe(writeGossipFrame(m), (payload) => {
          let p = payload;
          for (const [at, value, kind] of edits) {
            const i = p.length === 0 ? 0 : at % p.length;
            if (kind === 'set' && p.length > 0) p[i] = value;
            else if (kind === 'cut') p = Uint8Array.from([...p.subarray(0, i), ...p.subarray(i + 1)]);
            else p = Uint8Array.from([...p.subarray(0, i), value, ...p.subarray(i)]);
          }
          return p;
        });
        agree(frame);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: any msgpack value, or a valid message with a field replaced by anything, decodes as the generic path decodes it', () => {
    const tagged = fc.record(
      { p: fc.constant(GOSSIP_PROTOCOL), v: fc.constantFrom(1, 2, 1.0), t: fc.constantFrom('syn', 'ack', 'ack2', 'x'), c: fc.anything(), d: fc.anything(), s: fc.anything(), b: fc.anything(), r: fc.anything() },
      { requiredKeys: ['p', 'v', 't'] },
    );
    const replaced = fc.tuple(messageArb, fc.constantFrom('c', 'd', 's', 'b', 'r', 't', 'v', 'p', 'x'), fc.anything(), fc.nat(), fc.constantFrom('i', 'g', 'f', 'h', 's', 'k', 'l', 'a', 'z')).map(([m, key, value, at, deltaKey]) => {
      const payload = encodeGossipPayload(m);
      const deltasOf = payload['s'];
      if (Array.isArray(deltasOf) && deltasOf.length > 0 && at % 2 === 0) (deltasOf[at % deltasOf.length] as Record<string, unknown>)[deltaKey] = value;
      else payload[key] = value;
      return payload as unknown;
    });
    // Near misses: a valid message with one scalar nudged (another version or type, a delta's `from` at or
    // above its fields' versions, a field's version moved), which only the checks themselves tell apart.
    const nudged = fc
      .tuple(messageArb, fc.constantFrom('v', 'p', 't', 'f', 'sv', 'kv', 'lv', 'g'), fc.oneof(fc.nat(2000), fc.constantFrom('from', 'from', -1, 1.5, 2, 'syn', 'ack', 'ack2', 'kv')), fc.nat())
      .map(([m, what, nudge, at]) => {
        const payload = encodeGossipPayload(m);
        const maps = payload['s'];
        if (['v', 'p', 't'].includes(what) || !Array.isArray(maps) || maps.length === 0) {
          payload[what === 'f' || what.length === 2 || what === 'g' ? 'v' : what] = nudge;
        } else {
          const d = maps[at % maps.length] as Record<string, unknown>;
          const value = nudge === 'from' ? d['f'] : nudge;
          if (what === 'f' || what === 'g') d[what] = value;
          else if (Array.isArray(d[what[0]!])) (d[what[0]!] as unknown[])[1] = value;
          else d['f'] = value;
        }
        return payload as unknown;
      });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), tagged, replaced, nudged, nudged), (value) => {
        let frame: Uint8Array;
        try {
          frame = encodeFrame(value);
        } catch {
          return; // not encodable at all
        }
        agree(frame);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: a delta whose field versions are moved around its `from` decodes as the generic path decodes it", () => {
    const arb = fc.record({
      from: fc.nat(50),
      versions: fc.array(fc.nat(60), { minLength: 4, maxLength: 4 }),
      which: fc.constantFrom('s', 'k', 'l', 'a'),
      atFrom: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, ({ from, versions, which, atFrom }) => {
        const [sv, kv, lv, av] = versions.map((v) => from + 1 + v) as [number, number, number, number];
        const delta: Record<string, unknown> = { i: 'n1', g: 1, f: from, h: 3, s: ['normal', sv], k: [['1', '2'], kv], l: [0, lv], a: ['k', 'v', av] };
        const moved = atFrom ? from : Math.max(0, from - 1);
        if (which === 'a') delta['a'] = ['k', 'v', moved];
        else (delta[which] as unknown[])[1] = moved;
        agree(encodeFrame({ p: GOSSIP_PROTOCOL, v: 1, t: 'ack2', c: 'ringkv', s: [delta], b: [] }));
        agree(encodeFrame({ p: GOSSIP_PROTOCOL, v: 1, t: 'ack2', c: 'ringkv', s: [{ ...delta, f: 0, g: 2 }], b: [] }));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects, as the generic path does, each near miss of a valid delta', () => {
    const delta = { i: 'a', g: 1, f: 0, h: 4, s: ['normal', 1], k: [['0', '18446744073709551615'], 2], l: [0.5, 3], a: ['k', 'v', 5] };
    const ack2 = (d: Record<string, unknown>, b: unknown[] = ['c', 3, 7, 9]): Uint8Array => encodeFrame({ p: GOSSIP_PROTOCOL, v: 1, t: 'ack2', c: 'ringkv', s: [d], b });
    expect(decodeGossipFrame(ack2(delta)).t).toBe('ack2');
    const bad: [string, Uint8Array][] = [
      ['unknown status', ack2({ ...delta, s: ['down', 1] })],
      ['infinite load', ack2({ ...delta, l: [Number.POSITIVE_INFINITY, 3] })],
      ['NaN load', ack2({ ...delta, l: [Number.NaN, 3] })],
      ['negative load', ack2({ ...delta, l: [-0.5, 3] })],
      ['an application state twice', ack2({ ...delta, a: ['k', 'v', 5, 'k', 'w', 6] })],
      ['an empty application key', ack2({ ...delta, a: ['', 'v', 5] })],
      ['token with a leading zero', ack2({ ...delta, k: [['01'], 2] })],
      ['token out of range', ack2({ ...delta, k: [['18446744073709551616'], 2] })],
      ['beats not quadruples', ack2(delta, ['c', 3, 7])],
      ['the same member as a delta and a beat', ack2(delta, ['a', 1, 4, 5])],
      ['fractional version', ack2({ ...delta, h: 4.5 })],
      ['version past 2^53', ack2({ ...delta, h: 2 ** 53 })],
      ['empty node id', ack2({ ...delta, i: '' })],
    ];
    for (const [what, frame] of bad) {
      expect(() => decodeGossipFrameGeneric(frame), what).toThrow(GossipWireError);
      expect(() => decodeGossipFrame(frame), what).toThrow(GossipWireError);
    }
  });

  it('reads the frames gossip sends without the generic path', () => {
    const ack: GossipMessage = {
      t: 'ack',
      cluster: 'ringkv',
      deltas: [
        { nodeId: 'n1', generation: 3, from: 0, heartbeat: 9, status: { value: 'normal', version: 1 }, tokens: { value: [5n, 7n], version: 2 }, load: { value: 0, version: 3 }, app: [{ key: 'rebuild', value: '', version: 4 }] },
        { nodeId: 'n2', generation: 1, from: 9, heartbeat: 12, app: [] },
      ],
      requests: [{ nodeId: 'n3', generation: 2, above: 0 }],
    };
    const frame = writeGossipFrame(ack);
    expect(readGossipPayload(frame, FRAME_HEADER_BYTES, frame.length)).toEqual(ack);
    const syn = writeGossipFrame({ t: 'syn', cluster: 'ringkv', digests: [{ nodeId: 'n1', generation: 3, maxVersion: 70_000 }] });
    expect(readGossipPayload(syn, FRAME_HEADER_BYTES, syn.length)).toEqual({ t: 'syn', cluster: 'ringkv', digests: [{ nodeId: 'n1', generation: 3, maxVersion: 70_000 }] });
  });

  it('leaves to the generic path what it does not handle, and rejects nothing itself', () => {
    const unknownKey = encodeFrame({ p: GOSSIP_PROTOCOL, v: 1, t: 'syn', c: 'ringkv', d: ['n1', 1, 2], x: { later: true } });
    expect(readGossipPayload(unknownKey, FRAME_HEADER_BYTES, unknownKey.length)).toBeNull();
    expect(decodeGossipFrame(unknownKey)).toEqual({ t: 'syn', cluster: 'ringkv', digests: [{ nodeId: 'n1', generation: 1, maxVersion: 2 }] });
    const twice = encodeFrame({ p: GOSSIP_PROTOCOL, v: 1, t: 'ack2', c: 'ringkv', s: [], b: ['n1', 1, 2, 3, 'n1', 1, 2, 3] });
    expect(readGossipPayload(twice, FRAME_HEADER_BYTES, twice.length)).toBeNull();
    expect(() => decodeGossipFrame(twice)).toThrow(GossipWireError);
  });
});
