// An LRU cache of decoded blocks (decompressed, checksum-verified, parsed),
// keyed by (fileId, block offset) and bounded by bytes, shared by every
// SstableReader of a node. Blocks in it are immutable: readers hand out views
// into them, which nobody may mutate.

import { assert } from '../../io/assert.ts';
import type { Block } from './block_reader.ts';

// Bookkeeping charged per entry on top of the block bytes.
const ENTRY_OVERHEAD_BYTES = 80;

interface CacheNode {
  fileId: number;
  offset: number;
  block: Block;
  charge: number;
  newer: CacheNode | undefined;
  older: CacheNode | undefined;
}

export interface BlockCacheStats {
  hits: number;
  misses: number;
  inserts: number;
  evictions: number;
}

export class BlockCache {
  private readonly files = new Map<number, Map<number, CacheNode>>();
  private newest: CacheNode | undefined;
  private oldest: CacheNode | undefined;
  private usage = 0;
  private count = 0;
  private nextFileId = 1;
  readonly stats: BlockCacheStats = { hits: 0, misses: 0, inserts: 0, evictions: 0 };

  constructor(readonly capacityBytes: number) {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0, `block cache capacity invalid: ${capacityBytes}`);
  }

  /** A fresh id for a reader that was given none (ids below 2^31 are left to callers). */
  newFileId(): number {
    return 2 ** 31 + this.nextFileId++;
  }

  lookup(fileId: number, offset: number): Block | undefined {
    const node = this.files.get(fileId)?.get(offset);
    if (node === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.touch(node);
    return node.block;
  }

  /** Caches a block; one larger than the whole cache is not kept. */
  insert(fileId: number, offset: number, block: Block): void {
    const charge = block.byteLength() + ENTRY_OVERHEAD_BYTES;
    if (charge > this.capacityBytes) return;
    const existing = this.files.get(fileId)?.get(offset);
    if (existing !== undefined) this.remove(existing);
    let perFile = this.files.get(fileId);
    if (perFile === undefined) {
      perFile = new Map();
      this.files.set(fileId, perFile);
    }
    const node: CacheNode = { fileId, offset, block, charge, newer: undefined, older: undefined };
    perFile.set(offset, node);
    this.linkNewest(node);
    this.usage += charge;
    this.count++;
    this.stats.inserts++;
    while (this.usage > this.capacityBytes) {
      const victim = this.oldest;
      assert(victim !== undefined && victim !== node, 'cache over capacity with nothing to evict');
      this.remove(victim);
      this.stats.evictions++;
    }
  }

  /** Drops every block of a file (e.g. once the table is deleted). */
  evictFile(fileId: number): void {
    const perFile = this.files.get(fileId);
    if (perFile === undefined) return;
    for (const node of [...perFile.values()]) this.remove(node);
  }

  usageBytes(): number {
    return this.usage;
  }

  entryCount(): number {
    return this.count;
  }

  private touch(node: CacheNode): void {
    if (this.newest === node) return;
    this.unlink(node);
    this.linkNewest(node);
  }

  private linkNewest(node: CacheNode): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest) this.newest.newer = node;
    this.newest = node;
    if (this.oldest === undefined) this.oldest = node;
  }

  private unlink(node: CacheNode): void {
    if (node.newer) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = undefined;
    node.older = undefined;
  }

  private remove(node: CacheNode): void {
    this.unlink(node);
    const perFile = this.files.get(node.fileId);
    assert(perFile !== undefined && perFile.get(node.offset) === node, 'cache index out of step with LRU list');
    perFile.delete(node.offset);
    if (perFile.size === 0) this.files.delete(node.fileId);
    this.usage -= node.charge;
    this.count--;
    assert(this.usage >= 0 && this.count >= 0, 'cache accounting negative');
  }
}
