// A File held in memory (every byte durable at once), for table tests and
// tools that build tables without a Disk. pread returns copies, so callers
// can never alias the file's buffer; flipBit and truncate let tests damage it.

import { assert } from '../../io/assert.ts';
import type { File, SyncCallback } from '../../io/disk.ts';

export class MemoryFile implements File {
  private buf: Uint8Array;
  private length = 0;
  closed = false;
  preadCalls = 0;

  constructor(
    readonly name = 'memory.sst',
    initial?: Uint8Array,
  ) {
    this.buf = new Uint8Array(Math.max(1024, initial?.length ?? 0));
    if (initial !== undefined) this.append(initial);
  }

  size(): number {
    return this.length;
  }

  append(data: Uint8Array): void {
    assert(!this.closed, `${this.name}: append after close`);
    if (this.length + data.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + data.length));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  pread(offset: number, length: number): Uint8Array {
    assert(!this.closed, `${this.name}: pread after close`);
    assert(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0, 'pread range');
    this.preadCalls++;
    const end = Math.min(this.length, offset + length);
    return this.buf.slice(Math.min(offset, end), end);
  }

  sync(callback: SyncCallback): void {
    callback(null);
  }

  close(): void {
    this.closed = true;
  }

  /** The whole content (a copy). */
  contents(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  flipBit(byteOffset: number, bit: number): void {
    assert(byteOffset >= 0 && byteOffset < this.length && bit >= 0 && bit < 8, 'flipBit out of range');
    this.buf[byteOffset]! ^= 1 << bit;
  }

  truncate(length: number): void {
    assert(length >= 0 && length <= this.length, 'truncate beyond the end');
    this.length = length;
  }
}
