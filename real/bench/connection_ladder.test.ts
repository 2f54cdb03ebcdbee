import { describe, expect, it } from 'vitest';
import { ConnectionLadder } from './connection_ladder.ts';

/** How many of the steps' results a search takes before it stops. */
function stepsTaken(results: number[]): number {
  const ladder = new ConnectionLadder();
  for (let i = 0; i < results.length; i++) if (!ladder.offer(results[i]!)) return i + 1;
  return results.length;
}

describe('ConnectionLadder', () => {
  it('goes on while throughput grows', () => {
    expect(stepsTaken([1000, 2000, 3000, 4000, 5000])).toBe(5);
  });

  it('goes past one low step when the next grows again', () => {
    // 16 connections low by chance, 48 and 128 above everything before them.
    expect(stepsTaken([4000, 3000, 6000, 9000, 9100])).toBe(5);
  });

  it('stops after two steps in a row without 5% growth', () => {
    expect(stepsTaken([4000, 8000, 8200, 8300, 20000])).toBe(4);
    expect(stepsTaken([4000, 8000, 7000, 6000, 20000])).toBe(4);
  });

  it('counts growth against the best so far, not the previous step', () => {
    // 7900 after a dip to 5000 is no growth over 8000.
    expect(stepsTaken([8000, 5000, 7900, 20000])).toBe(3);
  });
});
