// A positional reader of msgpack: the peer messages (messages.ts) are
// msgpack arrays whose items the decoder reads in order, each asked for as
// the type it must be. There is no generic decode and no intermediate
// object: a message is built directly from the bytes. Anything not of the
// type asked for, or running past the end, is a WireError naming what was
// expected; the reader never throws anything else.
//
// What it accepts per request, as msgpackr writes them:
//   integers  fixint, uint 8/16/32, int 8/16/32, and float64 holding a safe
//             integer (msgpackr writes integers above 32 bits as float64)
//   numbers   any of the above, any float64
//   strings   fixstr, str 8/16/32 (UTF-8; invalid sequences become U+FFFD,
//             as msgpackr decodes them)
//   bytes     bin 8/16/32, as views into the frame, not copies
//   nil, booleans, array headers

export class WireError extends Error {
  override name = 'WireError';
}

/** Short strings (message types, keyspace and node names, codes) repeat in every message: looked up, not rebuilt. */
const CACHED_STRING_BYTES = 16;
const CACHE_SLOTS = 1024;
const cachedBytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
const cachedStrings: string[] = new Array(CACHE_SLOTS);
const float64Bytes = new Uint8Array(8);
const float64View = new DataView(float64Bytes.buffer);
const utf8 = new TextDecoder('utf-8');

const NIL = 0xc0;

export class WireReader {
  constructor(
    private readonly bytes: Uint8Array,
    private at: number,
    private readonly end: number,
  ) {}

  /** Throws unless every byte was read. */
  finish(): void {
    if (this.at !== this.end) throw new WireError(`${this.end - this.at} B after the message`);
  }

  /** The length of the array that starts here. */
  arrayHeader(what: string): number {
    const b = this.byte(what);
    if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
    if (b === 0xdc) return this.uintBytes(2, what);
    if (b === 0xdd) return this.uintBytes(4, what);
    throw new WireError(`${what} is not a list`);
  }

  /** Whether the next item is nil; if so it is consumed. */
  nil(): boolean {
    if (this.at < this.end && this.bytes[this.at] === NIL) {
      this.at++;
      return true;
    }
    return false;
  }

  bool(what: string): boolean {
    const b = this.byte(what);
    if (b === 0xc3) return true;
    if (b === 0xc2) return false;
    throw new WireError(`${what} is not a boolean`);
  }

  /** A non-negative safe integer. */
  count(what: string): number {
    const x = this.number(what);
    if (!Number.isSafeInteger(x) || x < 0) throw new WireError(`${what} ${x} is not a count`);
    return x;
  }

  /** Any number, integer or float. */
  number(what: string): number {
    const b = this.byte(what);
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xcc:
        return this.uintBytes(1, what);
      case 0xcd:
        return this.uintBytes(2, what);
      case 0xce:
        return this.uintBytes(4, what);
      case 0xd0:
        return (this.uintBytes(1, what) << 24) >> 24;
      case 0xd1:
        return (this.uintBytes(2, what) << 16) >> 16;
      case 0xd2:
        return this.uintBytes(4, what) | 0;
      case 0xcb: {
        this.need(8, what);
        for (let k = 0; k < 8; k++) float64Bytes[k] = this.bytes[this.at + k]!;
        this.at += 8;
        return float64View.getFloat64(0, false);
      }
      default:
        throw new WireError(`${what} is not a number`);
    }
  }

  string(what: string): string {
    const b = this.byte(what);
    let n: number;
    if (b >= 0xa0 && b <= 0xbf) n = b & 0x1f;
    else if (b === 0xd9) n = this.uintBytes(1, what);
    else if (b === 0xda) n = this.uintBytes(2, what);
    else if (b === 0xdb) n = this.uintBytes(4, what);
    else throw new WireError(`${what} is not a string`);
    this.need(n, what);
    const from = this.at;
    this.at += n;
    return n <= CACHED_STRING_BYTES ? cachedString(this.bytes, from, from + n) : decodeString(this.bytes, from, from + n);
  }

  stringOrNull(what: string): string | null {
    return this.nil() ? null : this.string(what);
  }

  /** A byte string, as a plain Uint8Array view into the frame (not a Buffer's subarray). */
  bytesView(what: string): Uint8Array {
    const n = this.binLength(what);
    const view = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + this.at, n);
    this.at += n;
    return view;
  }

  /** A byte string decoded where it lies: `decode` gets the frame and the string's range, and no view is made for it. */
  bytesWith<T>(what: string, decode: (bytes: Uint8Array, from: number, to: number) => T): T {
    const n = this.binLength(what);
    const from = this.at;
    this.at += n;
    return decode(this.bytes, from, from + n);
  }

  /** Reads a byte string's header; its `n` bytes (all present) start at the read position. */
  private binLength(what: string): number {
    const b = this.byte(what);
    let n: number;
    if (b === 0xc4) n = this.uintBytes(1, what);
    else if (b === 0xc5) n = this.uintBytes(2, what);
    else if (b === 0xc6) n = this.uintBytes(4, what);
    else throw new WireError(`${what} is not bytes`);
    this.need(n, what);
    return n;
  }

  bytesOrNull(what: string): Uint8Array | null {
    return this.nil() ? null : this.bytesView(what);
  }

  private byte(what: string): number {
    if (this.at >= this.end) throw new WireError(`message ends before its ${what}`);
    return this.bytes[this.at++]!;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.at) throw new WireError(`${what} runs past the end of the message`);
  }

  /** A big-endian unsigned integer of `n` bytes (n <= 4). */
  private uintBytes(n: number, what: string): number {
    this.need(n, what);
    let x = 0;
    for (let k = 0; k < n; k++) x = x * 256 + this.bytes[this.at + k]!;
    this.at += n;
    return x;
  }
}

function cachedString(bytes: Uint8Array, from: number, to: number): string {
  const n = to - from;
  let h = n;
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + bytes[i]!) | 0;
  const slot = (h ^ (h >>> 10)) & (CACHE_SLOTS - 1);
  const known = cachedBytes[slot];
  if (known !== undefined && known.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (known[i] !== bytes[from + i]) {
        same = false;
        break;
      }
    }
    if (same) return cachedStrings[slot]!;
  }
  const s = decodeString(bytes, from, to);
  cachedBytes[slot] = bytes.slice(from, to);
  cachedStrings[slot] = s;
  return s;
}

function decodeString(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c > 0x7f) return utf8.decode(bytes.subarray(from, to));
    s += String.fromCharCode(c);
  }
  return s;
}
