// The run's fingerprint: an incremental 64-bit hash over everything that
// happened (each processed event, disk operation and line a checker adds).
// Same seed, same hash; a differing hash is the first sign of lost
// determinism. Two independent 32-bit MurmurHash3-style lanes with different
// constants, so it needs no node:crypto and no BigInt on the hot path.
// Optionally keeps the last lines in readable form to diff two runs.

import { assert } from '../io/assert.ts';

const A1 = 0xcc9e2d51;
const A2 = 0x1b873593;
const B1 = 0x85ebca6b;
const B2 = 0xc2b2ae35;
/** Ends every line, so that "ab" + "c" and "a" + "bc" differ. */
const LINE_END = 0x5a5a_0a0a;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

export class Trace {
  private a = 0x9747b28c;
  private b = 0x2f1a6c3d;
  private words = 0;
  private readonly numberView = new DataView(new ArrayBuffer(8));
  private readonly recent: string[] = [];
  private recentStart = 0;
  private lineCount = 0;

  /** `keepLines` > 0 keeps that many of the latest lines readable (slower: builds strings). */
  constructor(private readonly keepLines = 0) {
    assert(Number.isInteger(keepLines) && keepLines >= 0, `Trace: bad keepLines ${keepLines}`);
  }

  /** Lines folded so far. */
  get lines(): number {
    return this.lineCount;
  }

  /** Folds a processed event: its time, its node ('' for a world event) and its kind. */
  event(timeMs: number, node: string, kind: string): void {
    this.number(timeMs);
    this.string(node);
    this.string(kind);
    this.endLine(this.keepLines > 0 ? `${timeMs} ${node} ${kind}` : undefined);
  }

  /** Folds a disk (or other component) operation. */
  op(node: string, op: string, name: string, size: number): void {
    this.string(node);
    this.string(op);
    this.string(name);
    this.number(size);
    this.endLine(this.keepLines > 0 ? `  ${node} ${op} ${name} ${size}` : undefined);
  }

  /**
   * Folds a frame's event on the simulated network (`kind`: send, deliver,
   * drop and why), without building its line: every frame passes here.
   * `size` < 0 and `replayOf` 0 are left out of the readable line.
   */
  frame(kind: string, from: string, to: string, id: number, size: number, replayOf: number): void {
    this.string(kind);
    this.string(from);
    this.string(to);
    this.number(id);
    this.number(size);
    this.number(replayOf);
    this.endLine(this.keepLines > 0 ? `net ${kind} ${from}>${to} #${id}${size < 0 ? '' : ` ${size}B`}${replayOf === 0 ? '' : ` replay of #${replayOf}`}` : undefined);
  }

  /** Folds an arbitrary line (a client operation, a checker verdict). */
  line(text: string): void {
    this.string(text);
    this.endLine(this.keepLines > 0 ? text : undefined);
  }

  /** 16 hex digits over everything folded so far; folding may continue afterwards. */
  hex(): string {
    let a = this.a ^ this.words;
    let b = this.b ^ this.words;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    return hex8(a) + hex8(b);
  }

  /** The latest lines kept (oldest first); empty unless constructed with keepLines. */
  recentLines(): string[] {
    return [...this.recent.slice(this.recentStart), ...this.recent.slice(0, this.recentStart)];
  }

  private word(k: number): void {
    let ka = Math.imul(k, A1);
    ka = Math.imul(rotl(ka, 15), A2);
    this.a ^= ka;
    this.a = (Math.imul(rotl(this.a, 13), 5) + 0xe6546b64) | 0;
    let kb = Math.imul(k, B1);
    kb = Math.imul(rotl(kb, 16), B2);
    this.b ^= kb;
    this.b = (Math.imul(rotl(this.b, 15), 5) + 0x38495ab5) | 0;
    this.words++;
  }

  private number(n: number): void {
    // The exact float64 bits, little-endian, so every platform folds the same words.
    this.numberView.setFloat64(0, n, true);
    this.word(this.numberView.getUint32(0, true));
    this.word(this.numberView.getUint32(4, true));
  }

  private string(s: string): void {
    this.word(s.length);
    // The lanes in locals for the loop (word() inlined): every event folds its node and kind.
    let a = this.a;
    let b = this.b;
    const n = s.length;
    let i = 0;
    for (; i < n; i += 2) {
      const k = i + 1 < n ? s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16) : s.charCodeAt(i);
      let ka = Math.imul(k, A1);
      ka = Math.imul((ka << 15) | (ka >>> 17), A2);
      a ^= ka;
      a = (Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64) | 0;
      let kb = Math.imul(k, B1);
      kb = Math.imul((kb << 16) | (kb >>> 16), B2);
      b ^= kb;
      b = (Math.imul((b << 15) | (b >>> 17), 5) + 0x38495ab5) | 0;
    }
    this.a = a;
    this.b = b;
    this.words += (n + 1) >> 1;
  }

  private endLine(readable: string | undefined): void {
    this.word(LINE_END);
    this.lineCount++;
    if (readable === undefined) return;
    if (this.recent.length < this.keepLines) this.recent.push(readable);
    else {
      this.recent[this.recentStart] = readable;
      this.recentStart = (this.recentStart + 1) % this.keepLines;
    }
  }
}
