// CRC-32C (Castagnoli, polynomial 0x82F63B78, reflected), the checksum of
// every record and block ringkv writes to disk or sends on the wire.
//
// Slicing-by-8 tables in JavaScript, and optionally a native implementation
// with the same results for inputs of NATIVE_FROM_BYTES and more, where it
// is 4-10x faster (hardware CRC instructions). io/ reaches no native code
// itself: the process entry points install one (real/native_crc32c.ts, with
// @node-rs/crc32's binary), and without it every input takes the tables.
// crc32c.test.ts checks that the two agree.

const POLY = 0x82f63b78;
const TABLES: Uint32Array[] = makeTables();
// Each table in a module constant of its own: read from locals destructured
// out of TABLES on every call, short inputs (most frames) took 1.5x as long.
const T0 = TABLES[0]!;
const T1 = TABLES[1]!;
const T2 = TABLES[2]!;
const T3 = TABLES[3]!;
const T4 = TABLES[4]!;
const T5 = TABLES[5]!;
const T6 = TABLES[6]!;
const T7 = TABLES[7]!;

/** Shorter inputs stay in JavaScript: a native call costs about as much as 150-200 bytes of table lookups. */
const NATIVE_FROM_BYTES = 200;

/** A CRC-32C over all of `input`, continuing from `initial` (a previous result, or 0). */
export type NativeCrc32c = (input: Uint8Array, initial?: number) => number;

let native: NativeCrc32c | null = null;

/**
 * Installs (or, with null, removes) the native implementation. It must
 * compute CRC-32C exactly as crc32cUpdateJs does: checked here on a few
 * inputs before it is used, so a wrong binding fails at once.
 */
export function installNativeCrc32c(impl: NativeCrc32c | null): void {
  if (impl !== null) {
    const probe = new Uint8Array(NATIVE_FROM_BYTES + 37).map((_, i) => (i * 167 + 13) & 0xff);
    for (const seed of [0, 0x1234_5678]) {
      if (impl(probe, seed) !== crc32cUpdateJs(seed, probe)) throw new Error('native CRC-32C disagrees with the JavaScript implementation');
    }
  }
  native = impl;
}

/** Which implementation serves inputs of NATIVE_FROM_BYTES and more. */
export function crc32cImplementation(): 'native' | 'js' {
  return native === null ? 'js' : 'native';
}

function makeTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  for (let t = 0; t < 8; t++) tables.push(new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    tables[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0]![n]!;
    for (let t = 1; t < 8; t++) {
      c = tables[0]![c & 0xff]! ^ (c >>> 8);
      tables[t]![n] = c >>> 0;
    }
  }
  return tables;
}

/** Extends `crc` (the value of a previous call, or 0) over `data[start, end)`. */
export function crc32cUpdate(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  if (native !== null && end - start >= NATIVE_FROM_BYTES) return native(start === 0 && end === data.length ? data : data.subarray(start, end), crc);
  return crc32cUpdateJs(crc, data, start, end);
}

/** The JavaScript implementation alone (the reference the native one is tested against). */
export function crc32cUpdateJs(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  let c = ~crc >>> 0;
  let i = start;
  while (end - i >= 8) {
    const a = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ c;
    c =
      T7[a & 0xff]! ^ T6[(a >>> 8) & 0xff]! ^ T5[(a >>> 16) & 0xff]! ^ T4[a >>> 24]! ^
      T3[data[i + 4]!]! ^ T2[data[i + 5]!]! ^ T1[data[i + 6]!]! ^ T0[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = T0[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  return crc32cUpdate(0, data, start, end);
}

// Stored CRCs are masked (LevelDB's trick) so that a CRC computed over data
// that itself contains CRCs does not degenerate.
const MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
