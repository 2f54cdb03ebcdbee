import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameOpener,
  FrameSealer,
  MAC_PREFIX_BYTES,
  NONCE_BYTES,
  clientProof,
  generateSecretHex,
  parseSecretHex,
  RecordMac,
  referenceRecordMac,
  serverProof,
  sessionKey,
  type HandshakeTranscript,
} from './peer_auth.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const transcriptArb = fc.record({
  cluster: fc.string({ minLength: 1, maxLength: 8 }),
  clientId: fc.string({ minLength: 1, maxLength: 8 }),
  serverId: fc.string({ minLength: 1, maxLength: 8 }),
  clientAddress: fc.string({ maxLength: 8 }),
  clientNonce: bytes(NONCE_BYTES),
  serverNonce: bytes(NONCE_BYTES),
});
const secret = parseSecretHex(generateSecretHex());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('handshake proofs', () => {
  it('differ between client, server and session, and depend on every transcript field and the secret', () => {
    fc.assert(
      fc.property(transcriptArb, fc.constantFrom('cluster', 'clientId', 'serverId', 'clientAddress', 'clientNonce', 'serverNonce'), (t, field) => {
        const proofs = [clientProof(secret, t), serverProof(secret, t), sessionKey(secret, t)].map(hex);
        expect(new Set(proofs).size).toBe(3);
        const changed: HandshakeTranscript = { ...t };
        if (field === 'clientNonce' || field === 'serverNonce') {
          const n = new Uint8Array(t[field]);
          n[0]! ^= 1;
          changed[field] = n;
        } else {
          changed[field] = t[field] + 'x';
        }
        expect(hex(clientProof(secret, changed))).not.toBe(proofs[0]);
        expect(hex(serverProof(secret, changed))).not.toBe(proofs[1]);
        const other = parseSecretHex(generateSecretHex());
        expect(hex(clientProof(other, t))).not.toBe(proofs[0]);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps field boundaries: moving a character between ids changes the proof', () => {
    const n = new Uint8Array(NONCE_BYTES);
    const a = { cluster: 'c', clientId: 'ab', serverId: 'c', clientAddress: '', clientNonce: n, serverNonce: n };
    const b = { cluster: 'c', clientId: 'a', serverId: 'bc', clientAddress: '', clientNonce: n, serverNonce: n };
    expect(hex(clientProof(secret, a))).not.toBe(hex(clientProof(secret, b)));
  });
});

describe('frame MACs', () => {
  it('open in order and fail on any reorder, replay, alteration or wrong key', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 2, maxLength: 10 }), fc.nat(), (frames, pick) => {
        const key = sessionKey(secret, { cluster: 'c', clientId: 'a', serverId: 'b', clientAddress: '', clientNonce: new Uint8Array(16), serverNonce: new Uint8Array(16) });
        const sealer = new FrameSealer(key);
        const macs = frames.map((f) => sealer.seal(f));
        const opener = new FrameOpener(key);
        frames.forEach((f, i) => expect(opener.open(f, macs[i])).toBe(true));

        const i = pick % frames.length;
        // Replay of frame i at position 0 (a fresh opener) fails unless it is frame 0.
        if (i > 0) expect(new FrameOpener(key).open(frames[i]!, macs[i])).toBe(false);
        // Altered frame.
        const altered = new Uint8Array([...frames[i]!, 1]);
        const o2 = new FrameOpener(key);
        for (let j = 0; j < i; j++) o2.open(frames[j]!, macs[j]);
        expect(o2.open(altered, macs[i])).toBe(false);
        // Wrong key.
        const wrongKey = new Uint8Array(key);
        wrongKey[0]! ^= 1;
        expect(new FrameOpener(wrongKey).open(frames[0]!, macs[0])).toBe(false);
        // Not bytes at all.
        expect(new FrameOpener(key).open(frames[0]!, 'mac')).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('record MACs', () => {
  it('are HMAC-SHA256(session key, seq | record) truncated to 16 bytes, in place or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), (key, records) => {
        const sealer = new FrameSealer(key);
        const inPlace = new FrameSealer(key);
        const opener = new FrameOpener(key);
        records.forEach((r, i) => {
          const expected = [...referenceRecordMac(key, BigInt(i), r)];
          expect([...sealer.seal(r)]).toEqual(expected);
          const buf = Buffer.alloc(MAC_PREFIX_BYTES + r.length);
          buf.set(r, MAC_PREFIX_BYTES);
          expect([...inPlace.sealInPlace(buf)]).toEqual(expected);
          expect(Buffer.from(buf.subarray(MAC_PREFIX_BYTES)).equals(Buffer.from(r))).toBe(true);
          buf.fill(0xaa, 0, MAC_PREFIX_BYTES);
          expect(opener.openInPlace(buf, new Uint8Array(expected))).toBe(true);
        });
      }),
      { numRuns: 100 },
    );
  });
});

describe('cluster secrets', () => {
  it('are generated as 32 random bytes in hex and parsed back', () => {
    const a = generateSecretHex();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(generateSecretHex());
    expect(parseSecretHex(a).length).toBe(32);
  });

  it('refuse non-hex and short secrets with a clear message', () => {
    expect(() => parseSecretHex('xyz')).toThrow(/hex/);
    expect(() => parseSecretHex('abc')).toThrow(/hex/);
    expect(() => parseSecretHex('ab'.repeat(16))).not.toThrow();
    expect(() => parseSecretHex('ab'.repeat(15))).toThrow(/at least 16/);
  });

  it('write every bit of a sequence number past 2^32 (it is kept as two u32 halves, not a BigInt)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.maxSafeNat(), fc.uint8Array({ maxLength: 64 }), (key, seq, r) => {
        const buf = Buffer.alloc(MAC_PREFIX_BYTES + r.length);
        buf.set(r, MAC_PREFIX_BYTES);
        expect([...new RecordMac(key).compute(seq, buf)]).toEqual([...referenceRecordMac(key, BigInt(seq), r)]);
      }),
      { numRuns: 200 },
    );
  });
});
