// A reader for the common shape of a peer message payload: one msgpack map
// with ASCII string keys whose values are all scalars or byte strings (nil,
// booleans, integers up to 32 bits, float64, ASCII strings, bin). It gives
// the object msgpackr's unpack gives for such a payload, without its generic
// machinery and a Buffer per byte string; on anything else (a nested list or
// map, another format, a non-ASCII string) it returns null and the caller
// decodes with msgpackr. A repeated key keeps its last value, as in msgpackr.
// Byte strings are views into `bytes`, as msgpackr's are.

const RESERVED_KEY = '__proto__';
/** Short strings (keys, message types, keyspace and node names) repeat in every message: they are looked up, not rebuilt. */
const CACHED_STRING_BYTES = 16;
const CACHE_SLOTS = 1024;
const cachedBytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
const cachedStrings: string[] = new Array(CACHE_SLOTS);
const float64Bytes = new Uint8Array(8);
const float64View = new DataView(float64Bytes.buffer);

/** The map at bytes[start, end) as a plain object, or null when it is not exactly one flat map (see above). */
export function readFlatMsgpackMap(bytes: Uint8Array, start: number, end: number): Record<string, unknown> | null {
  let at = start;
  if (at >= end) return null;
  const head = bytes[at++]!;
  let size: number;
  if (head >= 0x80 && head <= 0x8f) size = head & 0x0f;
  else if (head === 0xde) {
    if (at + 2 > end) return null;
    size = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
  } else return null;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    // Key: a short ASCII string (fixstr).
    if (at >= end) return null;
    const kh = bytes[at++]!;
    if (kh < 0xa0 || kh > 0xbf) return null;
    const klen = kh & 0x1f;
    if (at + klen > end) return null;
    const key = ascii(bytes, at, at + klen);
    if (key === null || key === RESERVED_KEY) return null;
    at += klen;
    // Value.
    if (at >= end) return null;
    const b = bytes[at++]!;
    let value: unknown;
    if (b <= 0x7f) value = b;
    else if (b >= 0xe0) value = b - 0x100;
    else if (b >= 0xa0 && b <= 0xbf) {
      const n = b & 0x1f;
      if (at + n > end) return null;
      value = ascii(bytes, at, at + n);
      if (value === null) return null;
      at += n;
    } else {
      switch (b) {
        case 0xc0:
          value = null;
          break;
        case 0xc2:
          value = false;
          break;
        case 0xc3:
          value = true;
          break;
        case 0xc4:
        case 0xc5:
        case 0xc6:
        case 0xd9:
        case 0xda:
        case 0xdb: {
          const lengthBytes = b === 0xc4 || b === 0xd9 ? 1 : b === 0xc5 || b === 0xda ? 2 : 4;
          if (at + lengthBytes > end) return null;
          let n = 0;
          for (let k = 0; k < lengthBytes; k++) n = n * 256 + bytes[at + k]!;
          at += lengthBytes;
          if (n > end - at) return null;
          if (b <= 0xc6) value = bytes.subarray(at, at + n);
          else {
            value = ascii(bytes, at, at + n);
            if (value === null) return null;
          }
          at += n;
          break;
        }
        case 0xcb: {
          if (at + 8 > end) return null;
          for (let k = 0; k < 8; k++) float64Bytes[k] = bytes[at + k]!;
          value = float64View.getFloat64(0, false);
          at += 8;
          break;
        }
        case 0xcc:
          if (at + 1 > end) return null;
          value = bytes[at++]!;
          break;
        case 0xcd:
          if (at + 2 > end) return null;
          value = (bytes[at]! << 8) | bytes[at + 1]!;
          at += 2;
          break;
        case 0xce:
          if (at + 4 > end) return null;
          value = bytes[at]! * 0x100_0000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
          at += 4;
          break;
        case 0xd0:
          if (at + 1 > end) return null;
          value = (bytes[at++]! << 24) >> 24;
          break;
        case 0xd1:
          if (at + 2 > end) return null;
          value = (((bytes[at]! << 8) | bytes[at + 1]!) << 16) >> 16;
          at += 2;
          break;
        case 0xd2:
          if (at + 4 > end) return null;
          value = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
          at += 4;
          break;
        default:
          return null;
      }
    }
    out[key] = value;
  }
  return at === end ? out : null;
}

/** The ASCII string in bytes[from, to), or null when a byte is not ASCII. */
function ascii(bytes: Uint8Array, from: number, to: number): string | null {
  const n = to - from;
  if (n > CACHED_STRING_BYTES) return build(bytes, from, to);
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
  const s = build(bytes, from, to);
  if (s !== null) {
    cachedBytes[slot] = bytes.slice(from, to);
    cachedStrings[slot] = s;
  }
  return s;
}

function build(bytes: Uint8Array, from: number, to: number): string | null {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c > 0x7f) return null;
    s += String.fromCharCode(c);
  }
  return s;
}
