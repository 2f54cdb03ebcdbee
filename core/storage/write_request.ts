// What a caller asks the engine to write, checked and copied before it is
// queued, and turned into entries once it gets its sequence numbers.

import { EntryKind, type Entry } from './entry.ts';
import { InvalidRequestError } from './errors.ts';

/** A century: expiry times (now + ttl) stay far inside the exact integer range. */
export const MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000;

export type WriteOp =
  | { kind: 'put'; key: Uint8Array; value: Uint8Array; ttlMs?: number }
  | { kind: 'delete'; key: Uint8Array };

/** Refuses a malformed or oversized request before anything is stored (empty keys included). */
export function validateWrite(ops: WriteOp[], limits: { maxKeyBytes: number; maxValueBytes: number }): InvalidRequestError | null {
  if (!Array.isArray(ops)) return new InvalidRequestError('write takes an array of operations');
  for (const op of ops) {
    if (op === null || typeof op !== 'object') return new InvalidRequestError('an operation must be an object');
    if (!(op.key instanceof Uint8Array) || op.key.length === 0) return new InvalidRequestError('key must be a non-empty Uint8Array');
    if (op.key.length > limits.maxKeyBytes) return new InvalidRequestError(`key of ${op.key.length} B exceeds ${limits.maxKeyBytes} B`);
    if (op.kind === 'put') {
      if (!(op.value instanceof Uint8Array)) return new InvalidRequestError('value must be a Uint8Array');
      if (op.value.length > limits.maxValueBytes) return new InvalidRequestError(`value of ${op.value.length} B exceeds ${limits.maxValueBytes} B`);
      if (op.ttlMs !== undefined && !(Number.isSafeInteger(op.ttlMs) && op.ttlMs > 0 && op.ttlMs <= MAX_TTL_MS)) {
        return new InvalidRequestError(`ttlMs must be an integer in [1, ${MAX_TTL_MS}], got ${op.ttlMs}`);
      }
    } else if (op.kind !== 'delete') {
      return new InvalidRequestError(`unknown operation ${(op as { kind: unknown }).kind}`);
    }
  }
  return null;
}

/** Copies of the caller's buffers (it may reuse them once write() returns); a put's key and value share one buffer. */
export function copyWrite(ops: WriteOp[]): WriteOp[] {
  const copied: WriteOp[] = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.kind === 'delete') {
      copied[i] = { kind: 'delete', key: op.key.slice() };
      continue;
    }
    const k = op.key.length;
    const both = new Uint8Array(k + op.value.length);
    both.set(op.key, 0);
    both.set(op.value, k);
    const put: WriteOp = { kind: 'put', key: both.subarray(0, k), value: both.subarray(k) };
    if (op.ttlMs !== undefined) put.ttlMs = op.ttlMs;
    copied[i] = put;
  }
  return copied;
}

/** Key and value bytes a write carries (its share of userBytesWritten). */
export function userBytes(ops: WriteOp[]): number {
  let n = 0;
  for (const op of ops) n += op.key.length + (op.kind === 'put' ? op.value.length : 0);
  return n;
}

/**
 * The entries of a write whose first seq is `firstSeq`, at wall time `nowMs`
 * (whole milliseconds): a put's time is its expiry (0 = none), a delete's
 * the time of the delete, from which the grace period runs.
 */
export function writeEntries(ops: WriteOp[], firstSeq: number, nowMs: number): Entry[] {
  return ops.map((op, i) =>
    op.kind === 'put'
      ? { key: op.key, seq: firstSeq + i, kind: EntryKind.Put, value: op.value, timeMs: opTimeMs(op, nowMs) }
      : { key: op.key, seq: firstSeq + i, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: opTimeMs(op, nowMs) },
  );
}

/** An operation's entry time (see writeEntries). */
export function opTimeMs(op: WriteOp, nowMs: number): number {
  if (op.kind === 'delete') return nowMs;
  return op.ttlMs !== undefined ? nowMs + op.ttlMs : 0;
}
