import { describe, expect, it } from 'vitest';
import { UsageError, integerFlag, parseFlags } from './command.ts';

describe('parseFlags', () => {
  it('reads --name value, --name=value, booleans and positionals', () => {
    const { flags, positional } = parseFlags(['a', '--n', '3', '--m=4', '--json', 'b'], { booleans: ['json'], strings: ['n', 'm'] });
    expect(Object.fromEntries(flags)).toEqual({ n: '3', m: '4', json: true });
    expect(positional).toEqual(['a', 'b']);
  });

  it('refuses unknown options, a value on a boolean and a missing value', () => {
    expect(() => parseFlags(['--x'], {})).toThrow(/unknown option --x/);
    expect(() => parseFlags(['--json=1'], { booleans: ['json'] })).toThrow(/--json takes no value/);
    expect(() => parseFlags(['--n'], { strings: ['n'] })).toThrow(/--n needs a value/);
  });
});

describe('integerFlag', () => {
  const flags = (value?: string) => parseFlags(value === undefined ? [] : ['--n', value], { strings: ['n'] }).flags;

  it('gives the fallback when the flag is absent and the value when it is in range', () => {
    expect(integerFlag(flags(), 'n', 7, { min: 1, max: 10 })).toBe(7);
    expect(integerFlag(flags('1'), 'n', 7, { min: 1, max: 10 })).toBe(1);
    expect(integerFlag(flags('10'), 'n', 7, { min: 1, max: 10 })).toBe(10);
    expect(integerFlag(flags('0'), 'n', 7, { min: 0 })).toBe(0);
    expect(integerFlag(flags('-3'), 'n', 7, { min: -5 })).toBe(-3);
  });

  it('refuses what is not decimal digits, and values out of range, saying the range and the value', () => {
    for (const bad of [' 5', '5 ', '0x10', '1e3', '2.5', 'five', '+3', '99999999999999999999']) {
      expect(() => integerFlag(flags(bad), 'n', 7, { min: 1 }), bad).toThrow(UsageError);
    }
    expect(() => integerFlag(flags('0'), 'n', 7, { min: 1, max: 32 })).toThrow('--n needs an integer in 1..32, got "0"');
    expect(() => integerFlag(flags('33'), 'n', 7, { min: 1, max: 32 })).toThrow(/in 1\.\.32/);
    expect(() => integerFlag(flags('0'), 'n', 7, { min: 1, unit: 'ms' })).toThrow('--n needs an integer >= 1 (ms), got "0"');
  });
});
