import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Trace } from './trace.ts';

const hashOf = (fill: (t: Trace) => void): string => {
  const t = new Trace();
  fill(t);
  return t.hex();
};

describe('Trace', () => {
  it('is 16 hex digits and a function of what was folded', () => {
    const h = hashOf((t) => t.event(1.5, 'n1', 'timer'));
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(h).toBe(hashOf((t) => t.event(1.5, 'n1', 'timer')));
    expect(hashOf(() => {})).not.toBe(h);
  });

  it('folds the same words as before its string loop was unrolled (pinned: traces stay comparable across versions)', () => {
    const t = new Trace();
    // Odd and even lengths, 0 to 11 UTF-16 units, non-ASCII included.
    for (let n = 0; n < 12; n++) t.line('x\u00e9y€z'.repeat(3).slice(0, n));
    t.event(12.25, 'n3', 'net deliver');
    t.op('n1', 'append', 'wal-000001', 4096);
    t.frame('send', 'n1', 'n2', 7, 120, 0);
    expect(t.hex()).toBe('5c640d638e2e04c0');
  });

  it('tells apart order, line boundaries, fields and tiny time differences', () => {
    const variants = [
      hashOf((t) => (t.line('a'), t.line('b'))),
      hashOf((t) => (t.line('b'), t.line('a'))),
      hashOf((t) => t.line('ab')),
      hashOf((t) => (t.line('ab'), t.line(''))),
      hashOf((t) => t.event(1, 'n1', 'timer')),
      hashOf((t) => t.event(1 + 2 ** -40, 'n1', 'timer')),
      hashOf((t) => t.event(1, 'n', '1timer')),
      hashOf((t) => t.event(1, 'n1', 'disk.sync')),
      hashOf((t) => t.op('n1', 'append', 'wal', 10)),
      hashOf((t) => t.op('n1', 'append', 'wal', 11)),
      hashOf((t) => t.op('n1', 'append', 'wa', 10)),
      hashOf((t) => t.frame('send', 'a', 'b', 1, 10, 0)),
      hashOf((t) => t.frame('send', 'b', 'a', 1, 10, 0)),
      hashOf((t) => t.frame('send', 'a', 'b', 2, 10, 0)),
      hashOf((t) => t.frame('send', 'a', 'b', 1, 11, 0)),
      hashOf((t) => t.frame('send', 'a', 'b', 1, 10, 1)),
      hashOf((t) => t.frame('deliver', 'a', 'b', 1, 10, 0)),
      hashOf((t) => t.frame('send', 'ab', '', 1, 10, 0)),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('property: distinct line sequences give distinct hashes (no collisions in practice)', () => {
    const seen = new Map<string, string>();
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }), (lines) => {
        const key = JSON.stringify(lines);
        const h = hashOf((t) => lines.forEach((l) => t.line(l)));
        const prior = seen.get(h);
        expect(prior === undefined || prior === key).toBe(true);
        seen.set(h, key);
      }),
      { numRuns: 20_000 },
    );
  });

  it('hashing is incremental: hex() can be read midway without changing the result', () => {
    const a = new Trace();
    a.line('x');
    a.hex();
    a.line('y');
    expect(a.hex()).toBe(hashOf((t) => (t.line('x'), t.line('y'))));
    expect(a.lines).toBe(2);
  });

  it('keeps the last lines readable when asked', () => {
    const t = new Trace(2);
    t.line('one');
    t.event(3, 'n2', 'timer');
    t.op('n2', 'sync', 'wal', 40);
    expect(t.recentLines()).toEqual(['3 n2 timer', '  n2 sync wal 40']);
    t.frame('send', 'n1', 'n2', 7, 120, 5);
    t.frame('deliver', 'n1', 'n2', 7, -1, 0);
    expect(t.recentLines()).toEqual(['net send n1>n2 #7 120B replay of #5', 'net deliver n1>n2 #7']);
    expect(new Trace().recentLines()).toEqual([]);
  });
});
