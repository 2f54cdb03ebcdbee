// Builds one SSTable block: entries in internal order, keys prefix-compressed
// against the previous key, with a restart point (a full key) every
// `restartInterval` entries so a reader can binary-search the restarts. The
// block encoding is documented in sstable_format.ts.

import { assert } from '../../io/assert.ts';
import { ByteWriter } from './varint.ts';

/** Copies a key into the start of `to`: a loop for short keys, where TypedArray.set's fixed cost dominates. */
export function copyKey(to: Uint8Array, key: Uint8Array): void {
  const n = key.length;
  if (n > 32) {
    to.set(key);
    return;
  }
  for (let i = 0; i < n; i++) to[i] = key[i]!;
}

export class BlockBuilder {
  private readonly out = new ByteWriter(4096);
  private restarts: number[] = [0];
  private sinceRestart = 0;
  private entries = 0;
  // A copy of the previous key: callers may reuse their key buffers.
  private lastKey = new Uint8Array(64);
  private lastKeyLength = 0;

  constructor(readonly restartInterval: number) {
    assert(Number.isInteger(restartInterval) && restartInterval >= 1, `restart interval invalid: ${restartInterval}`);
  }

  /** The caller guarantees internal order (the table writer asserts it). */
  add(key: Uint8Array, seq: number, kind: number, timeMs: number, value: Uint8Array): void {
    let shared = 0;
    if (this.sinceRestart < this.restartInterval) {
      const last = this.lastKey;
      const max = Math.min(this.lastKeyLength, key.length);
      while (shared < max && last[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.out.length);
      this.sinceRestart = 0;
    }
    const w = this.out;
    w.varint(shared);
    w.varint(key.length - shared);
    w.varint(seq);
    w.varint(kind);
    w.varint(timeMs);
    w.varint(value.length);
    w.bytes(key, shared);
    w.bytes(value);
    this.rememberKey(key);
    this.sinceRestart++;
    this.entries++;
  }

  private rememberKey(key: Uint8Array): void {
    if (key.length > this.lastKey.length) this.lastKey = new Uint8Array(Math.max(key.length, this.lastKey.length * 2));
    copyKey(this.lastKey, key);
    this.lastKeyLength = key.length;
  }

  /** Size of the block if finished now. */
  estimatedBytes(): number {
    return this.out.length + this.restarts.length * 4 + 4;
  }

  entryCount(): number {
    return this.entries;
  }

  isEmpty(): boolean {
    return this.entries === 0;
  }

  /**
   * Appends the restart array; returns a view valid until reset(). Only an
   * index block may be empty (a table without entries).
   */
  finish(): Uint8Array {
    for (const r of this.restarts) this.out.u32(r);
    this.out.u32(this.restarts.length);
    return this.out.view();
  }

  reset(): void {
    this.out.reset();
    this.restarts = [0];
    this.sinceRestart = 0;
    this.entries = 0;
    this.lastKeyLength = 0;
  }
}
