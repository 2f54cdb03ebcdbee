// Token space and ranges on the ring. Tokens are unsigned 64-bit integers
// held as bigint; the ring is [0, 2^64) with 2^64 - 1 followed by 0.
//
// A range is (start, end]: start exclusive, end inclusive, read clockwise, so
// a range with start > end wraps through zero. start === end is the whole ring
// (the only range of a ring with a single token). A key belongs to the first
// token at or after its own token, clockwise: the token that ends its range.

import { assert } from '../../io/assert.ts';

export const RING_BITS = 64n;
export const RING_SIZE = 1n << RING_BITS;
export const MAX_TOKEN = RING_SIZE - 1n;

export interface TokenRange {
  readonly start: bigint;
  readonly end: bigint;
}

export function isToken(t: bigint): boolean {
  return t >= 0n && t < RING_SIZE;
}

/** Clockwise distance from a to b, in [0, 2^64). */
export function clockwiseDistance(a: bigint, b: bigint): bigint {
  const d = b - a;
  return d >= 0n ? d : d + RING_SIZE;
}

/** Number of tokens in the range, in [1, 2^64]. */
export function rangeWidth(range: TokenRange): bigint {
  const d = clockwiseDistance(range.start, range.end);
  return d === 0n ? RING_SIZE : d;
}

/** Share of the ring the range covers, in (0, 1]. */
export function rangeShare(range: TokenRange): number {
  return Number(rangeWidth(range)) / Number(RING_SIZE);
}

export function rangeContains(range: TokenRange, token: bigint): boolean {
  assert(isToken(token), `token ${token} outside [0, 2^64)`);
  const { start, end } = range;
  if (start === end) return true;
  if (start < end) return token > start && token <= end;
  return token > start || token <= end;
}

/** The token halfway along the range, clockwise from start (never start itself for width > 1). */
export function rangeMidpoint(range: TokenRange): bigint {
  const mid = range.start + rangeWidth(range) / 2n;
  return mid >= RING_SIZE ? mid - RING_SIZE : mid;
}

export function formatRange(range: TokenRange): string {
  return `(${range.start.toString(16)}, ${range.end.toString(16)}]`;
}
