// Whether bytes hold well-formed msgpack, found by walking the headers
// without building any value: the simulated network checks every frame it
// delivers this way (frame_arrival_check.ts), so the receiving node's decode
// is the only one a frame gets.

/** Item headers of msgpack: what follows a header byte. */
const enum Next {
  Fixed,
  Length8,
  Length16,
  Length32,
  Ext8,
  Ext16,
  Ext32,
  Array16,
  Array32,
  Map16,
  Map32,
  Invalid,
}

/**
 * The offset just past the one msgpack value starting at `start`, or -1 when
 * the value is malformed or runs past `end`. Nested values are counted, not
 * recursed into, so depth cannot overflow the stack.
 */
export function msgpackValueEnd(bytes: Uint8Array, start: number, end: number): number {
  let at = start;
  // Values still to walk; every value takes at least one byte, which bounds it.
  let pending = 1;
  while (pending > 0) {
    if (at >= end || pending > end - at) return -1;
    pending--;
    const b = bytes[at++]!;
    if (b <= 0x7f || b >= 0xe0) continue;
    if (b <= 0x8f) {
      pending += 2 * (b & 0x0f);
      continue;
    }
    if (b <= 0x9f) {
      pending += b & 0x0f;
      continue;
    }
    if (b <= 0xbf) {
      at += b & 0x1f;
      continue;
    }
    let skip = 0;
    switch (NEXT[b - 0xc0]) {
      case Next.Fixed:
        skip = FIXED_BYTES[b - 0xc0]!;
        break;
      case Next.Length8:
        if (at + 1 > end) return -1;
        skip = 1 + bytes[at]!;
        break;
      case Next.Length16:
        if (at + 2 > end) return -1;
        skip = 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
        break;
      case Next.Length32:
        if (at + 4 > end) return -1;
        skip = 4 + u32(bytes, at);
        break;
      case Next.Ext8:
        if (at + 1 > end) return -1;
        skip = 2 + bytes[at]!;
        break;
      case Next.Ext16:
        if (at + 2 > end) return -1;
        skip = 3 + ((bytes[at]! << 8) | bytes[at + 1]!);
        break;
      case Next.Ext32:
        if (at + 4 > end) return -1;
        skip = 5 + u32(bytes, at);
        break;
      case Next.Array16:
      case Next.Map16: {
        if (at + 2 > end) return -1;
        const n = (bytes[at]! << 8) | bytes[at + 1]!;
        pending += NEXT[b - 0xc0] === Next.Map16 ? 2 * n : n;
        skip = 2;
        break;
      }
      case Next.Array32:
      case Next.Map32: {
        if (at + 4 > end) return -1;
        const n = u32(bytes, at);
        pending += NEXT[b - 0xc0] === Next.Map32 ? 2 * n : n;
        skip = 4;
        break;
      }
      default:
        return -1;
    }
    at += skip;
  }
  return at <= end ? at : -1;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

// Headers 0xc0..0xdf (the others are handled inline above).
const NEXT: readonly Next[] = [
  Next.Fixed, // c0 nil
  Next.Invalid, // c1 never used
  Next.Fixed, // c2 false
  Next.Fixed, // c3 true
  Next.Length8, // c4 bin8
  Next.Length16, // c5 bin16
  Next.Length32, // c6 bin32
  Next.Ext8, // c7 ext8
  Next.Ext16, // c8 ext16
  Next.Ext32, // c9 ext32
  Next.Fixed, // ca float32
  Next.Fixed, // cb float64
  Next.Fixed, // cc uint8
  Next.Fixed, // cd uint16
  Next.Fixed, // ce uint32
  Next.Fixed, // cf uint64
  Next.Fixed, // d0 int8
  Next.Fixed, // d1 int16
  Next.Fixed, // d2 int32
  Next.Fixed, // d3 int64
  Next.Fixed, // d4 fixext1
  Next.Fixed, // d5 fixext2
  Next.Fixed, // d6 fixext4
  Next.Fixed, // d7 fixext8
  Next.Fixed, // d8 fixext16
  Next.Length8, // d9 str8
  Next.Length16, // da str16
  Next.Length32, // db str32
  Next.Array16, // dc array16
  Next.Array32, // dd array32
  Next.Map16, // de map16
  Next.Map32, // df map32
];

/** Bytes after the header byte of the fixed-size items 0xc0..0xdf. */
const FIXED_BYTES: readonly number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0];
