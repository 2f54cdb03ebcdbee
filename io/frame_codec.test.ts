import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, decodeFrame, encodeFrame, encodeMessage } from './frame_codec.ts';

const message = fc.record({
  type: fc.constantFrom('put', 'get', 'ack'),
  id: fc.nat(),
  key: fc.uint8Array({ maxLength: 64 }),
  value: fc.option(fc.uint8Array({ maxLength: 256 })),
  tags: fc.array(fc.string(), { maxLength: 4 }),
});

describe('frame codec', () => {
  it('round-trips messages, also when frames arrive back to back', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), (msgs) => {
        const frames = msgs.map(encodeFrame);
        const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
        let at = 0;
        for (const f of frames) { all.set(f, at); at += f.length; }
        const out: unknown[] = [];
        let rest = all;
        for (;;) {
          const d = decodeFrame(rest);
          if (!d) break;
          out.push(d.message);
          rest = rest.subarray(d.used);
        }
        expect(rest.length).toBe(0);
        expect(out).toEqual(msgs.map((m) => ({ ...m, value: m.value ?? null, key: Uint8Array.from(m.key) })));
      }),
    );
  });

  it('asks for more bytes on a partial frame', () => {
    const f = encodeFrame({ a: 1 });
    for (let n = 0; n < f.length; n++) expect(decodeFrame(f.subarray(0, n))).toBeNull();
  });

  it('rejects a corrupt frame', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, pos) => {
        const f = encodeFrame(m).slice();
        const at = 8 + (pos % (f.length - 8));
        f[at]! ^= 0x40;
        expect(() => decodeFrame(f)).toThrow(FrameError);
      }),
    );
  });

  it('rejects garbage headers claiming huge lengths', () => {
    const f = new Uint8Array(8).fill(0xff);
    expect(() => decodeFrame(f)).toThrow(FrameError);
  });

  it('encodes the same message to the same bytes every time', () => {
    const m = { type: 'x', n: 5, k: new Uint8Array([1, 2]) };
    encodeMessage({ other: 'shape', q: [1, 2, 3] });
    expect(encodeMessage(m)).toEqual(encodeMessage(m));
  });
});
