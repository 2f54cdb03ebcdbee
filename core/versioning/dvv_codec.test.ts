import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../io/crc32c.ts';
import { encodeMessage } from '../../io/frame_codec.ts';
import { encodeBase64Url } from './base64url.ts';
import { type CausalContext, type DvvSet, EMPTY_CONTEXT, checkDvv, emptyDvv, join, sync, update } from './dotted_version_vector.ts';
import { MAX_CONTEXT_CHARS, MAX_CONTEXT_COUNTER, decodeContext, decodeDvv, encodeContext, encodeDvv } from './dvv_codec.ts';
import { InvalidContextError, VersionFormatError } from './errors.ts';
import { compareNodeIds, nodeIdProblem } from './hlc.ts';

const nodeIdArb = fc.oneof(
  fc.constantFrom('r0', 'r1', 'r2', 'node-é', '\u{1f600}'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => nodeIdProblem(s) === null),
);
const counterArb = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: MAX_CONTEXT_COUNTER }));
const contextArb: fc.Arbitrary<CausalContext> = fc
  .uniqueArray(fc.record({ node: nodeIdArb, counter: counterArb }), { selector: (d) => d.node, maxLength: 8 })
  .map((ds) => [...ds].sort((a, b) => compareNodeIds(a.node, b.node)));

// States reached by random writes and syncs over three replicas.
const stateArb: fc.Arbitrary<DvvSet<number>> = fc
  .array(fc.record({ coordinator: fc.nat(2), withContext: fc.boolean(), syncFrom: fc.option(fc.nat(2)) }), { maxLength: 25 })
  .map((steps) => {
    const states = [0, 1, 2].map(() => emptyDvv<number>());
    let id = 0;
    for (const s of steps) {
      const c = s.coordinator;
      states[c] = update(states[c]!, s.withContext ? join(states[c]!) : EMPTY_CONTEXT, ++id * 1000, `r${c}`);
      if (s.syncFrom !== null) states[c] = sync(states[c]!, states[s.syncFrom]!);
    }
    return states[0]!;
  });

const encodeNumber = (n: number): Uint8Array => encodeMessage(n);
const decodeNumber = (b: Uint8Array): number => {
  if (b.length !== 3 || b[0] !== 0xcd) throw new Error('not a u16');
  return (b[1]! << 8) | b[2]!;
};

/** A context string with a valid envelope around an arbitrary payload. */
function envelope(payload: unknown, version = 1): string {
  const body = encodeMessage(payload);
  const bytes = new Uint8Array(1 + body.length + 4);
  bytes[0] = version;
  bytes.set(body, 1);
  new DataView(bytes.buffer).setUint32(1 + body.length, crc32c(body), true);
  return encodeBase64Url(bytes);
}

function expectInvalidContext(text: unknown): void {
  expect(() => decodeContext(text)).toThrow(InvalidContextError);
}

describe('causal context codec', () => {
  it('round-trips every valid context', () => {
    fc.assert(
      fc.property(contextArb, (context) => {
        const text = encodeContext(context);
        expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeContext(text)).toEqual(context);
      }),
    );
    expect(decodeContext(encodeContext(EMPTY_CONTEXT))).toEqual([]);
  });

  it('refuses malformed contexts with an InvalidContextError', () => {
    const good = encodeContext([{ node: 'r0', counter: 3 }]);
    expectInvalidContext(undefined);
    expectInvalidContext(42);
    expectInvalidContext('');
    expectInvalidContext('not base64!');
    expectInvalidContext('A'.repeat(MAX_CONTEXT_CHARS + 4));
    expectInvalidContext(good.slice(0, -2));
    expectInvalidContext(good.slice(0, 4));
    expectInvalidContext(envelope([['r0', 3]], 2));
    expectInvalidContext(envelope({ r0: 3 }));
    expectInvalidContext(envelope([['r0']]));
    expectInvalidContext(envelope([['r0', 0]]));
    expectInvalidContext(envelope([['r0', -1]]));
    expectInvalidContext(envelope([['r0', 1.5]]));
    expectInvalidContext(envelope([['r0', 2 ** 60]]));
    expectInvalidContext(envelope([['r0', MAX_CONTEXT_COUNTER + 1]]));
    expect(decodeContext(envelope([['r0', MAX_CONTEXT_COUNTER]]))).toEqual([{ node: 'r0', counter: MAX_CONTEXT_COUNTER }]);
    expectInvalidContext(envelope([['r0', '3']]));
    expectInvalidContext(envelope([['', 3]]));
    expectInvalidContext(envelope([[7, 3]]));
    expectInvalidContext(envelope([['r1', 1], ['r0', 1]]));
    expectInvalidContext(envelope([['r0', 1], ['r0', 2]]));
    expectInvalidContext(envelope(new Array(1025).fill(0).map((_, i) => [`n${String(i).padStart(4, '0')}`, 1])));
    // A valid envelope whose bytes are not msgpack at all.
    const junk = Uint8Array.of(1, 0xc1, ...new Uint8Array(4));
    new DataView(junk.buffer).setUint32(2, crc32c(Uint8Array.of(0xc1)), true);
    expectInvalidContext(encodeBase64Url(junk));
  });

  it('never fails other than with an InvalidContextError, whatever the client sends', () => {
    fc.assert(
      fc.property(contextArb, fc.nat(), fc.constantFrom(...'AQgw_-z9'), fc.string({ maxLength: 30 }), (context, at, char, noise) => {
        const text = encodeContext(context);
        const i = at % text.length;
        for (const candidate of [text.slice(0, i) + char + text.slice(i + 1), text.slice(0, i), noise, text + noise]) {
          try {
            const decoded = decodeContext(candidate);
            expect(encodeContext(decoded)).toBe(candidate);
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidContextError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('dvv state codec', () => {
  it('round-trips states, including large counters', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        expect(decodeDvv(encodeDvv(state, encodeNumber), decodeNumber)).toEqual(state);
      }),
    );
    const big: DvvSet<number> = { entries: [{ node: 'r0', counter: Number.MAX_SAFE_INTEGER, siblings: [{ counter: Number.MAX_SAFE_INTEGER, value: 7000 }] }] };
    expect(decodeDvv(encodeDvv(big, encodeNumber), decodeNumber)).toEqual(big);
  });

  it('refuses structurally invalid states with a VersionFormatError', () => {
    const bad: unknown[] = [
      { a: 1 },
      [['r0', 1]],
      [['r0', 0, []]],
      [['', 1, []]],
      [['r1', 1, []], ['r0', 1, []]],
      [['r0', 2, [[1, Uint8Array.of(0xcd, 0, 1)], [2, Uint8Array.of(0xcd, 0, 2)]]]],
      [['r0', 2, [[3, Uint8Array.of(0xcd, 0, 1)]]]],
      [['r0', 2, [[2, 'not bytes']]]],
      [['r0', 2, [[2, Uint8Array.of(1)]]]],
    ];
    for (const raw of bad) expect(() => decodeDvv(encodeMessage(raw), decodeNumber), JSON.stringify(raw)).toThrow(VersionFormatError);
    expect(() => decodeDvv(Uint8Array.of(0xc1), decodeNumber)).toThrow(VersionFormatError);
  });

  it('never fails other than with a VersionFormatError on damaged bytes', () => {
    fc.assert(
      fc.property(stateArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (state, at, byte) => {
        const bytes = encodeDvv(state, encodeNumber);
        const damaged = bytes.slice();
        damaged[at % damaged.length] = byte;
        for (const candidate of [damaged, bytes.subarray(0, at % bytes.length)]) {
          try {
            checkDvv(decodeDvv(candidate, decodeNumber));
          } catch (err) {
            expect(err).toBeInstanceOf(VersionFormatError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
