import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from '../storage/entry.ts';
import { hintKey, hintKeyPrefix, keySuccessor, parseHintKey, parseReplicaKey, prefixEnd, replicaKey, replicaPrefix } from './storage_keys.ts';

const ksArb = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => new TextEncoder().encode(s).length <= 64);
const keyArb = fc.uint8Array({ minLength: 1, maxLength: 40 });

describe('storage key layout', () => {
  it('parses what it builds', () => {
    fc.assert(
      fc.property(ksArb, keyArb, fc.constantFrom('n1', 'node-\u{1f600}'), (ks, key, target) => {
        expect(parseReplicaKey(replicaKey(ks, key))).toEqual({ ks, key });
        expect(parseHintKey(hintKey(ks, key, target))).toEqual({ ks, key, target });
        expect(parseReplicaKey(hintKey(ks, key, target))).toBeNull();
        expect(parseHintKey(replicaKey(ks, key))).toBeNull();
      }),
    );
  });

  it('keeps user key order inside a keyspace, and keyspaces apart', () => {
    fc.assert(
      fc.property(ksArb, ksArb, keyArb, keyArb, (ks1, ks2, a, b) => {
        expect(Math.sign(compareKeys(replicaKey(ks1, a), replicaKey(ks1, b)))).toBe(Math.sign(compareKeys(a, b)));
        const end = prefixEnd(replicaPrefix(ks1))!;
        expect(compareKeys(replicaKey(ks1, a), end)).toBeLessThan(0);
        if (ks1 !== ks2) {
          const inside = compareKeys(replicaKey(ks2, b), replicaPrefix(ks1)) >= 0 && compareKeys(replicaKey(ks2, b), end) < 0;
          expect(inside).toBe(false);
        }
        // Every hint of a key lies in its prefix range, whatever the target.
        const hp = hintKeyPrefix(ks1, a);
        const hk = hintKey(ks1, a, 'n2');
        expect(compareKeys(hk, hp) > 0 && compareKeys(hk, prefixEnd(hp)!) < 0).toBe(true);
      }),
    );
  });

  it('successors and prefix ends', () => {
    expect(prefixEnd(Uint8Array.of(1, 0xff))).toEqual(Uint8Array.of(2));
    expect(prefixEnd(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    expect(keySuccessor(Uint8Array.of(7))).toEqual(Uint8Array.of(7, 0));
    expect(parseReplicaKey(Uint8Array.of(1, 5, 97))).toBeNull();
    expect(parseHintKey(Uint8Array.of(2, 1, 97, 0, 0, 98))).toBeNull();
  });
});
