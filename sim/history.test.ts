import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sequentialRegisterHistory } from './checkers/register_history_generators.ts';
import { decodeHistory, describeOp, encodeHistory, type HistoryOp, HistoryFormatError, validateHistory } from './history.ts';

const op = (over: Partial<HistoryOp>): HistoryOp => ({
  process: 0,
  key: 'k',
  kind: 'write',
  value: 'v',
  expected: null,
  call: 0,
  ret: 1,
  outcome: 'ok',
  ...over,
});

describe('ringkv history format', () => {
  it('round-trips any history through encode/decode', () => {
    fc.assert(
      fc.property(sequentialRegisterHistory({ maxOps: 30, keys: 3, processes: 4 }), (h) => {
        expect(decodeHistory(encodeHistory(h))).toEqual(h);
      }),
      { numRuns: 200 },
    );
  });

  it('writes a header and one JSON object per line', () => {
    const text = encodeHistory([op({ kind: 'cas', expected: null, value: 'a', ret: null, outcome: 'info' })]);
    expect(text).toBe(
      '{"format":"ringkv-history","version":1}\n' +
        '{"process":0,"key":"k","kind":"cas","expected":null,"value":"a","call":0,"return":null,"outcome":"info"}\n',
    );
  });

  it.each([
    ['', /no ringkv-history header/],
    ['{"format":"other"}\n', /line 1: expected the header/],
    ['{"format":"ringkv-history","version":2}\n', /unsupported ringkv-history version 2/],
    ['{"format":"ringkv-history","version":1}\nnot json\n', /line 2: not JSON/],
    ['{"format":"ringkv-history","version":1}\n[1]\n', /line 2: not a JSON object/],
    ['{"format":"ringkv-history","version":1}\n{"process":0}\n', /line 2: missing field 'kind'/],
  ])('rejects bad files %#', (text, message) => {
    expect(() => decodeHistory(text)).toThrow(HistoryFormatError);
    expect(() => decodeHistory(text)).toThrow(message);
  });

  it.each([
    [op({ process: -1 }), /process/],
    [op({ kind: 'append' as never }), /unknown kind/],
    [op({ outcome: 'maybe' as never }), /unknown outcome/],
    [op({ ret: null }), /null only for outcome info/],
    [op({ call: 5, ret: 4 }), /before call/],
    [op({ value: null }), /write needs a value/],
    [op({ kind: 'delete', value: 'x' }), /delete takes no value/],
    [op({ kind: 'read', outcome: 'fail', value: 'x' }), /no value/],
    [op({ expected: 'x' }), /only for cas/],
    [op({ call: Infinity }), /finite/],
  ])('rejects a malformed operation %#', (bad, message) => {
    expect(() => validateHistory([bad])).toThrow(message);
  });

  it('rejects a process with two completed operations at once', () => {
    expect(() => validateHistory([op({ call: 0, ret: 10 }), op({ call: 5, ret: 6 })])).toThrow(/process 0 calls at 5 before its operation 1 returned at 10/);
    // An operation of unknown outcome does not hold its process.
    expect(() => validateHistory([op({ call: 0, ret: 10, outcome: 'info' }), op({ call: 5, ret: 6 })])).not.toThrow();
  });

  it('describes operations briefly', () => {
    expect(describeOp(op({ kind: 'read', value: null }))).toBe('read -> nil');
    expect(describeOp(op({ kind: 'cas', expected: '1', value: '2', outcome: 'fail' }))).toBe('cas 1->2 (compare failed)');
    expect(describeOp(op({ outcome: 'info' }))).toBe('write v (unknown)');
  });
});
