import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../io/frame_codec.ts';
import { MAC_PREFIX_BYTES } from './peer_auth.ts';
import {
  PeerFrameReader,
  PeerProtocolError,
  RECORD_BATCH,
  RECORD_BEAT,
  decodeBatchBody,
  encodeBatchBody,
  encodePeerMessage,
  recordBuffer,
  sealRecord,
  type PeerMessage,
} from './peer_wire.ts';

const mac = fc.uint8Array({ minLength: 16, maxLength: 16 });
const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const messageArb: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({ t: fc.constant('auth' as const), proof: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({ t: fc.constant('challenge' as const), nonce: bytes16, proof: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({ t: fc.constant('hello' as const), v: fc.constant(3), cluster: fc.constant('c'), from: fc.constant('a'), to: fc.constant('b'), nonce: bytes16, addr: fc.constantFrom('', '127.0.0.1:9001') }),
);
/** A record as sent: a batch of frames or a heartbeat, with some MAC. */
const recordArb = fc.record({ frames: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), mac });

/** Feeds `stream` to the reader in chunks of the sizes in `cuts` (cycled), collecting what `take` returns. */
function chunked<T>(stream: Uint8Array, cuts: number[], reader: PeerFrameReader, take: () => T | null): T[] {
  const out: T[] = [];
  let at = 0;
  let c = 0;
  while (at < stream.length) {
    const size = cuts[c++ % cuts.length]!;
    reader.push(new Uint8Array(stream.subarray(at, at + size)));
    at += size;
    for (let m = take(); m !== null; m = take()) out.push(m);
  }
  return out;
}

describe('PeerFrameReader', () => {
  it('returns the same messages however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 50 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((m) => encodePeerMessage(m)));
        const reader = new PeerFrameReader(1 << 20);
        const out = chunked(stream, cuts, reader, () => reader.next());
        expect(out).toEqual(messages);
        expect(reader.pendingBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('returns sealed records with their kind, MAC and body however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 50 }), (records, cuts) => {
        const stream = Buffer.concat(records.map((r) => sealRecord(recordBuffer(r.frames.length === 0 ? RECORD_BEAT : RECORD_BATCH, r.frames), r.mac)));
        const reader = new PeerFrameReader(1 << 20);
        const out = chunked(stream, cuts, reader, () => reader.nextRecord());
        expect(out.map((r) => r.kind)).toEqual(records.map((r) => (r.frames.length === 0 ? RECORD_BEAT : RECORD_BATCH)));
        expect(out.map((r) => [...r.mac])).toEqual(records.map((r) => [...r.mac]));
        out.forEach((r, i) => {
          const body = r.buf.subarray(MAC_PREFIX_BYTES + 1);
          if (r.kind === RECORD_BEAT) expect(body.length).toBe(0);
          else expect(decodeBatchBody(body).map((f) => [...f])).toEqual(records[i]!.frames.map((f) => [...f]));
        });
        expect(reader.pendingBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a record length over its limit or shorter than a record header', () => {
    for (const length of [1025, 16, 0]) {
      const reader = new PeerFrameReader(1024);
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, length, true);
      reader.push(header);
      expect(() => reader.nextRecord()).toThrow(PeerProtocolError);
    }
  });

  it('refuses a length prefix over its limit before the payload arrives', () => {
    const reader = new PeerFrameReader(1024);
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, 1025, true);
    reader.push(header);
    expect(() => reader.next()).toThrow(PeerProtocolError);
  });

  it('refuses corrupt frames and well-formed frames of the wrong shape', () => {
    const good = encodePeerMessage({ t: 'auth', proof: new Uint8Array(32) });
    const corrupt = new Uint8Array(good);
    corrupt[corrupt.length - 1]! ^= 0xff;
    const r1 = new PeerFrameReader(1024);
    r1.push(corrupt);
    expect(() => r1.next()).toThrow(FrameError);

    for (const bad of [{ t: 'auth', proof: new Uint8Array(3) }, { t: 'beat', m: new Uint8Array(16) }, { t: 'nope' }, { t: 'hello', v: 1, cluster: 'c', from: 'a', to: 'b', nonce: new Uint8Array(16) }, 42]) {
      const r = new PeerFrameReader(1024);
      r.push(encodePeerMessage(bad as PeerMessage));
      expect(() => r.next()).toThrow(PeerProtocolError);
    }
  });
});

describe('batch bodies', () => {
  it('give back the frames they were made of, empty frames included', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 30 }), (frames) => {
        const decoded = decodeBatchBody(encodeBatchBody(frames));
        expect(decoded.map((f) => [...f])).toEqual(frames.map((f) => [...f]));
      }),
      { numRuns: 200 },
    );
  });

  it('refuse bodies whose length prefixes do not tile them exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { minLength: 1, maxLength: 10 }), fc.nat(), (frames, cutAt) => {
        const body = encodeBatchBody(frames);
        const cut = 1 + (cutAt % (body.length - 1 || 1));
        // Cutting the body anywhere but at a frame boundary leaves a prefix that overruns.
        const boundaries = new Set<number>();
        let at = 0;
        for (const f of frames) boundaries.add((at += 4 + f.length));
        if (cut < body.length && !boundaries.has(cut)) expect(() => decodeBatchBody(body.subarray(0, cut))).toThrow(PeerProtocolError);
      }),
      { numRuns: 200 },
    );
    expect(() => decodeBatchBody(new Uint8Array(0))).toThrow(PeerProtocolError);
    expect(() => decodeBatchBody(new Uint8Array([5, 0, 0, 0, 1]))).toThrow(PeerProtocolError);
  });
});
