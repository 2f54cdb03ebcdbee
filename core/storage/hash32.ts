// MurmurHash3 x86_32 (Austin Appleby, public domain): a fast 32-bit hash with
// good avalanche, used for bloom filter probes. Its output is part of the
// SSTable filter format, so it must never change.

export function murmur3_32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  let i = start;
  const blockEnd = start + ((end - start) & ~3);
  while (i < blockEnd) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    i += 4;
  }
  const tail = end - i;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= data[i + 2]! << 16;
    if (tail >= 2) k ^= data[i + 1]! << 8;
    k ^= data[i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  return fmix32(h ^ (end - start));
}

/** Murmur3's finalizer: a bijection on 32-bit values in which every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
