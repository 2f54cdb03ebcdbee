// Replays a write-ahead log (format: log_format.ts) into its records.
//
// Reading stops at the first fragment that is damaged: a header or payload
// cut off by the end of the file, a checksum mismatch, an impossible length or
// type, or fragments out of order (a MIDDLE without a FIRST...). The record
// being assembled there and everything after it are dropped; only whole,
// checksummed records before that point are returned.
//
// Why stop instead of skipping the bad block as LevelDB does: a WAL record is
// a write batch that may have been acknowledged, and batches after a gap may
// depend on what was in the gap (a delete after a put, a counter). Skipping
// would replay a history with a hole in it and hide the hole. Stopping yields
// a consistent prefix, and the result says how many bytes were dropped and
// whether valid records were among them, so the engine can refuse to start or
// raise an alarm instead of losing acknowledged writes silently.
//
// stopReason:
//   'eof'       the file ends cleanly after a whole record (or inside the
//               zero padding of a block tail);
//   'torn-tail' damage from which no later record starts: what a crash during
//               an unsynced append leaves (a partial write, a zero-filled or
//               garbage tail). Nothing after it looks like a record;
//   'corrupt'   damage followed by at least one valid record start (a FULL or
//               FIRST fragment with a good checksum): records were dropped.
//               Bit rot in the middle of the log, or a torn multi-record
//               unsynced tail; the engine must report it.
//
// A read error (DiskReadError) is not corruption and propagates to the caller.

import { checkBlockBytes, BLOCK_BYTES, FragmentType, fragmentCrc, HEADER_BYTES, readFragmentHeader } from './log_format.ts';
import type { File } from '../../io/disk.ts';
import { assert } from '../../io/assert.ts';

export interface WalReplayResult {
  records: Uint8Array[];
  /** Bytes after the last returned record that were discarded (0 on 'eof'). */
  droppedBytes: number;
  stopReason: 'eof' | 'torn-tail' | 'corrupt';
  /** Offset just past the last returned record: the log's valid prefix. */
  validBytes: number;
  /** What was wrong where reading stopped; empty on 'eof'. */
  detail: string;
}

/** Reads every whole record of the log; never throws CorruptionError. */
export function readWal(file: File, options?: { blockBytes?: number }): WalReplayResult {
  const blockBytes = options?.blockBytes ?? BLOCK_BYTES;
  checkBlockBytes(blockBytes);
  return new LogScanner(file, blockBytes).replay();
}

class LogScanner {
  private readonly size: number;
  private blockStart = -1;
  private block: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly file: File,
    private readonly blockBytes: number,
  ) {
    this.size = file.size();
  }

  replay(): WalReplayResult {
    const records: Uint8Array[] = [];
    let parts: Uint8Array[] | null = null; // fragments of the record being assembled
    let recordEnd = 0; // offset just past the last whole record
    let pos = 0;
    // `startsHere`: the fragment at damageAt is itself a valid record start being dropped.
    const stop = (damageAt: number, detail: string, startsHere = false): WalReplayResult => {
      const later = startsHere || this.recordStartsAfter(damageAt);
      return {
        records,
        droppedBytes: this.size - recordEnd,
        stopReason: later ? 'corrupt' : 'torn-tail',
        validBytes: recordEnd,
        detail: `${detail} at offset ${damageAt}${later ? '; valid records follow it' : ''}`,
      };
    };
    for (;;) {
      if (pos >= this.size) {
        if (parts !== null) return stop(pos, 'log ends inside a fragmented record');
        return { records, droppedBytes: 0, stopReason: 'eof', validBytes: recordEnd, detail: '' };
      }
      const inBlock = pos % this.blockBytes;
      if (this.blockBytes - inBlock < HEADER_BYTES) {
        pos += this.blockBytes - inBlock; // zero padding of the block tail
        continue;
      }
      const fragment = this.fragmentAt(pos);
      if (typeof fragment === 'string') return stop(pos, fragment);
      const { type, start, end } = fragment;
      const payload = this.block.subarray(start, end);
      if (type === FragmentType.Full || type === FragmentType.First) {
        if (parts !== null) return stop(pos, 'a record starts before the previous one ended', true);
        if (type === FragmentType.Full) {
          // Records are copies: the File may reuse or later change what pread returned.
          records.push(payload.slice());
          recordEnd = pos + HEADER_BYTES + payload.length;
        } else {
          parts = [payload];
        }
      } else {
        if (parts === null) return stop(pos, 'a continuation fragment without a first fragment');
        parts.push(payload);
        if (type === FragmentType.Last) {
          records.push(concat(parts));
          parts = null;
          recordEnd = pos + HEADER_BYTES + payload.length;
        }
      }
      pos += HEADER_BYTES + payload.length;
    }
  }

  /** The valid fragment at `pos` (payload range within this.block), or why there is none. */
  private fragmentAt(pos: number): { type: number; start: number; end: number } | string {
    const inBlock = pos % this.blockBytes;
    assert(this.blockBytes - inBlock >= HEADER_BYTES, 'a fragment header fits in the rest of its block');
    if (pos + HEADER_BYTES > this.size) return 'log ends inside a fragment header';
    this.load(pos - inBlock);
    const h = readFragmentHeader(this.block, inBlock);
    if (h.type < FragmentType.Full || h.type > FragmentType.Last) return `unknown fragment type ${h.type}`;
    const start = inBlock + HEADER_BYTES;
    const end = start + h.length;
    if (end > this.blockBytes) return `fragment length ${h.length} crosses its block`;
    if (end > this.block.length) return 'log ends inside a fragment';
    if (fragmentCrc(h.type, this.block, start, end) !== h.crc) return 'fragment checksum mismatch';
    return { type: h.type, start, end };
  }

  private load(blockStart: number): void {
    if (this.blockStart === blockStart) return;
    const length = Math.min(this.blockBytes, this.size - blockStart);
    const block = this.file.pread(blockStart, length);
    assert(block.length === length, `log ${this.file.name}: short read at ${blockStart}`);
    this.block = block;
    this.blockStart = blockStart;
  }

  /**
   * Whether a valid record start (FULL or FIRST) lies after the damaged
   * fragment at `damageAt`. Fragments are found by walking from each later
   * block start (every block begins with a fragment header) and from just past
   * the damaged fragment when its length is plausible.
   */
  private recordStartsAfter(damageAt: number): boolean {
    const starts: number[] = [];
    const inBlock = damageAt % this.blockBytes;
    if (damageAt + HEADER_BYTES <= this.size && this.blockBytes - inBlock >= HEADER_BYTES) {
      this.load(damageAt - inBlock);
      const next = damageAt + HEADER_BYTES + readFragmentHeader(this.block, inBlock).length;
      if (next - (damageAt - inBlock) <= this.blockBytes) starts.push(next);
    }
    for (let b = damageAt - inBlock + this.blockBytes; b < this.size; b += this.blockBytes) starts.push(b);
    for (const first of starts) {
      const blockEnd = first - (first % this.blockBytes) + this.blockBytes;
      for (let pos = first; blockEnd - pos >= HEADER_BYTES && pos < this.size; ) {
        const fragment = this.fragmentAt(pos);
        if (typeof fragment === 'string') break;
        if (fragment.type === FragmentType.Full || fragment.type === FragmentType.First) return true;
        pos += HEADER_BYTES + fragment.end - fragment.start;
      }
    }
    return false;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
