// A simulated disk with the semantics of io/disk.ts and the faults of the
// fault model, all decided by seeded randomness.
//
// Each file body (inode) holds its bytes (ChunkedBytes) and `durable`, the
// length of the prefix known to be on the platter; the rest is the page
// cache. `sync` completes after a seeded latency (a scheduled event) and then
// makes durable every byte appended before the call; completions of one file
// are in call order. Names live in a SimDirectory, volatile until `syncDir`.
//
// `crash(rng)`: pending sync callbacks are dropped; the directory keeps or
// reverts each unsynced operation; then each surviving file's unsynced tail is
// kept whole, dropped, or torn: cut at a 512-byte sector boundary, the last
// kept sector intact, zeroed or garbled (never bytes below `durable`). What
// is left is durable. Handles opened before a crash are dead.
//
// Faults at rest: flipBit / flipRandomBits (bit rot), a read error rate
// (pread throws DiskReadError), a capacity (append throws DiskFullError and
// writes nothing).

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';
import { type Disk, DiskFullError, DiskReadError, type File, FileNotFoundError, type SyncCallback } from '../io/disk.ts';
import type { Rng } from '../io/rng.ts';
import { ChunkedBytes } from './chunked_bytes.ts';
import { SimDirectory } from './sim_directory.ts';

export const SECTOR_BYTES = 512;

export interface SimDiskOptions {
  capacityBytes?: number;
  /** Uniform range of a sync's (and a syncDir's) latency; default [0.2, 5] ms. */
  syncLatencyMs?: [number, number];
  readErrorRate?: number;
}

/** What a SimDisk needs from the world: the time, a way to complete work later, the trace. */
export interface SimDiskHost {
  nowMs(): number;
  /** Runs `fn` after `delayMs` of simulated time, unless the disk's node crashes first. */
  schedule(delayMs: number, kind: string, fn: () => void): void;
  /** Folds a disk operation into the run's trace. */
  onOp?(op: string, name: string, size: number): void;
}

export interface BitFlip {
  name: string;
  byteOffset: number;
  bit: number;
}

/** How crash() treated one file's unsynced tail (for tests and traces). */
export type TailOutcome = 'kept' | 'dropped' | 'torn-intact' | 'torn-zeroed' | 'torn-garbled';

interface Inode {
  readonly id: number;
  readonly data: ChunkedBytes;
  durable: number;
  /** Named in the current directory (counts towards used space). */
  linked: boolean;
  /** Simulated time the last scheduled sync of this body completes, to keep completions in call order. */
  lastSyncDoneAt: number;
}

export class SimDisk implements Disk {
  private readonly dir = new SimDirectory<Inode>();
  private nextInode = 1;
  private used = 0;
  private capacity: number;
  private readErrorRate: number;
  private readonly syncLatency: [number, number];
  private lastSyncDirDoneAt = 0;
  /** Bumped by crash(): handles and scheduled completions from an older generation are dead. */
  private generation = 0;
  private openHandles = 0;

  constructor(
    private readonly host: SimDiskHost,
    /** The disk's own stream: read errors and latencies. */
    private readonly rng: Rng,
    options: SimDiskOptions = {},
  ) {
    this.capacity = options.capacityBytes ?? Number.POSITIVE_INFINITY;
    this.readErrorRate = options.readErrorRate ?? 0;
    this.syncLatency = options.syncLatencyMs ?? [0.2, 5];
    assert(this.capacity >= 0, 'SimDisk: negative capacity');
    assert(this.readErrorRate >= 0 && this.readErrorRate <= 1, 'SimDisk: read error rate outside [0, 1]');
    assert(this.syncLatency[0] >= 0 && this.syncLatency[0] <= this.syncLatency[1], 'SimDisk: bad sync latency range');
  }

  // ---- io/disk.ts Disk ----

  create(name: string): File {
    SimDisk.checkName(name);
    const inode: Inode = { id: this.nextInode++, data: new ChunkedBytes(), durable: 0, linked: true, lastSyncDoneAt: 0 };
    const replaced = this.dir.create(name, inode);
    if (replaced !== undefined) this.unlink(replaced);
    this.host.onOp?.('create', name, 0);
    return this.handle(name, inode);
  }

  open(name: string): File {
    const inode = this.dir.get(name);
    if (inode === undefined) throw new FileNotFoundError(`open: ${name} does not exist`);
    this.host.onOp?.('open', name, inode.data.length);
    return this.handle(name, inode);
  }

  exists(name: string): boolean {
    return this.dir.get(name) !== undefined;
  }

  list(): string[] {
    return this.dir.names();
  }

  remove(name: string): void {
    if (this.dir.get(name) === undefined) throw new FileNotFoundError(`remove: ${name} does not exist`);
    this.unlink(this.dir.remove(name));
    this.host.onOp?.('remove', name, 0);
  }

  rename(from: string, to: string): void {
    SimDisk.checkName(to);
    if (this.dir.get(from) === undefined) throw new FileNotFoundError(`rename: ${from} does not exist`);
    this.host.onOp?.('rename', `${from}>${to}`, 0);
    if (from === to) return;
    const replaced = this.dir.rename(from, to);
    if (replaced !== undefined) this.unlink(replaced);
  }

  syncDir(callback: SyncCallback): void {
    const point = this.dir.syncPoint();
    const generation = this.generation;
    const doneAt = Math.max(this.host.nowMs() + this.latency(), this.lastSyncDirDoneAt);
    this.lastSyncDirDoneAt = doneAt;
    this.host.onOp?.('syncDir', '', this.dir.pendingCount);
    this.host.schedule(doneAt - this.host.nowMs(), 'disk.syncDir', () => {
      if (generation !== this.generation) return;
      this.dir.makeDurableThrough(point);
      callback(null);
    });
  }

  // ---- fault controls ----

  /** Loses, keeps or tears everything not yet durable, by the rng; see the header. Returns each file's tail outcome. */
  crash(rng: Rng): Map<string, TailOutcome> {
    this.generation++;
    this.openHandles = 0;
    this.lastSyncDirDoneAt = 0;
    this.dir.crash(rng);
    const outcomes = new Map<string, TailOutcome>();
    this.used = 0;
    for (const name of this.dir.names()) {
      const inode = this.dir.get(name)!;
      if (inode.data.length > inode.durable) outcomes.set(name, SimDisk.crashTail(inode, rng));
      inode.durable = inode.data.length;
      inode.linked = true;
      inode.lastSyncDoneAt = 0;
      this.used += inode.data.length;
    }
    this.host.onOp?.('crash', '', this.used);
    return outcomes;
  }

  /** Flips one bit of a file's bytes in place (rot at rest: every later read sees it). */
  flipBit(name: string, byteOffset: number, bit: number): void {
    const inode = this.dir.get(name);
    if (inode === undefined) throw new FileNotFoundError(`flipBit: ${name} does not exist`);
    this.flipInodeBit(name, inode, byteOffset, bit);
  }

  /** Flips `count` random bits among the durable bytes of durably named files, weighted by size. */
  flipRandomBits(rng: Rng, count: number): BitFlip[] {
    const files = this.dir
      .durableNames()
      .map((name) => ({ name, inode: this.dir.getDurable(name)! }))
      .filter((f) => f.inode.durable > 0);
    const total = files.reduce((sum, f) => sum + f.inode.durable, 0);
    const flips: BitFlip[] = [];
    if (total === 0) return flips;
    for (let i = 0; i < count; i++) {
      let at = rng.int(total);
      let k = 0;
      while (at >= files[k]!.inode.durable) at -= files[k++]!.inode.durable;
      const file = files[k]!;
      const flip = { name: file.name, byteOffset: at, bit: rng.int(8) };
      this.flipInodeBit(file.name, file.inode, flip.byteOffset, flip.bit);
      flips.push(flip);
    }
    return flips;
  }

  setReadErrorRate(p: number): void {
    assert(p >= 0 && p <= 1, `setReadErrorRate: ${p} outside [0, 1]`);
    this.readErrorRate = p;
  }

  /** A capacity below the bytes in use makes every non-empty append fail; nothing is deleted. */
  setCapacity(bytes: number): void {
    assert(bytes >= 0, `setCapacity: negative ${bytes}`);
    this.capacity = bytes;
  }

  // ---- inspection (tests, checkers) ----

  /** The bytes of `name` that survive any crash: its durable prefix, if the name itself is durable; else empty. */
  durableBytes(name: string): Uint8Array {
    const inode = this.dir.getDurable(name);
    if (inode === undefined) return new Uint8Array(0);
    return inode.data.read(0, inode.durable);
  }

  usedBytes(): number {
    return this.used;
  }

  /** Handles opened since the last crash and not closed (a leak check for tests). */
  openHandleCount(): number {
    return this.openHandles;
  }

  // ---- internals ----

  private handle(name: string, inode: Inode): File {
    this.openHandles++;
    return new SimFile(name, inode, this.generation, this.fileOps);
  }

  /** The handles' operations, built once per disk (a handle is opened for every table read). */
  private readonly fileOps: FileOps = {
    check: (f, op) => {
      if (f.generation !== this.generation) throw new AssertionError(`${op} on ${f.name}: handle opened before a crash`);
      if (f.closed) throw new AssertionError(`${op} on ${f.name}: handle is closed`);
    },
    append: (f, data) => {
      const { name, inode } = f;
      if (this.used + data.length > this.capacity) {
        this.host.onOp?.('append.full', name, data.length);
        throw new DiskFullError(`append to ${name}: ${data.length} bytes do not fit (${this.used} of ${this.capacity} used)`);
      }
      inode.data.append(data);
      if (inode.linked) this.used += data.length;
      this.host.onOp?.('append', name, data.length);
    },
    pread: (f, offset, length) => {
      const { name, inode } = f;
      if (!(Number.isSafeInteger(offset) && offset >= 0)) throw new AssertionError(`pread on ${name}: bad offset ${offset}`);
      if (!(Number.isSafeInteger(length) && length >= 0)) throw new AssertionError(`pread on ${name}: bad length ${length}`);
      if (this.readErrorRate > 0 && this.rng.chance(this.readErrorRate)) {
        this.host.onOp?.('pread.error', name, length);
        throw new DiskReadError(`pread on ${name} at ${offset}: I/O error`);
      }
      const out = inode.data.read(offset, length);
      assert(out.length <= length && (out.length === length || offset + out.length >= inode.data.length), 'pread: short read before end of file');
      this.host.onOp?.('pread', name, out.length);
      return out;
    },
    sync: (f, callback) => {
      const { name, inode, generation } = f;
      const target = inode.data.length;
      const doneAt = Math.max(this.host.nowMs() + this.latency(), inode.lastSyncDoneAt);
      inode.lastSyncDoneAt = doneAt;
      this.host.onOp?.('sync', name, target);
      this.host.schedule(doneAt - this.host.nowMs(), 'disk.sync', () => {
        if (generation !== this.generation) return;
        if (target > inode.data.length) throw new AssertionError(`sync of ${name}: file shrank below the synced length without a crash`);
        if (target > inode.durable) inode.durable = target;
        if (inode.durable > inode.data.length) throw new AssertionError(`sync of ${name}: durable beyond size`);
        callback(null);
      });
    },
    closed: () => {
      this.openHandles--;
      assert(this.openHandles >= 0, 'close: negative open handle count');
    },
  };

  private flipInodeBit(name: string, inode: Inode, byteOffset: number, bit: number): void {
    assert(Number.isInteger(bit) && bit >= 0 && bit < 8, `flipBit: bad bit ${bit}`);
    assert(Number.isSafeInteger(byteOffset) && byteOffset >= 0 && byteOffset < inode.data.length, `flipBit: offset ${byteOffset} outside ${name} (${inode.data.length} bytes)`);
    inode.data.setByte(byteOffset, inode.data.byteAt(byteOffset) ^ (1 << bit));
    this.host.onOp?.('flipBit', name, byteOffset);
  }

  private unlink(inode: Inode): void {
    assert(inode.linked, 'SimDisk.unlink: body already unlinked');
    inode.linked = false;
    this.used -= inode.data.length;
    assert(this.used >= 0, 'SimDisk.unlink: negative used bytes');
  }

  private latency(): number {
    const [lo, hi] = this.syncLatency;
    return lo === hi ? lo : lo + this.rng.next() * (hi - lo);
  }

  private static crashTail(inode: Inode, rng: Rng): TailOutcome {
    const data = inode.data;
    const durable = inode.durable;
    const size = data.length;
    assert(durable < size, 'crashTail: nothing unsynced');
    const mode = rng.int(3);
    if (mode === 0) return 'kept';
    if (mode === 1) {
      data.truncate(durable);
      return 'dropped';
    }
    // Torn: keep whole sectors of the unsynced region up to a boundary.
    const firstSector = Math.floor(durable / SECTOR_BYTES);
    const lastSector = Math.floor((size - 1) / SECTOR_BYTES);
    const keptSectors = 1 + rng.int(lastSector - firstSector + 1);
    const cut = Math.min(size, (firstSector + keptSectors) * SECTOR_BYTES);
    assert(cut > durable && cut <= size, `crashTail: cut ${cut} outside (${durable}, ${size}]`);
    data.truncate(cut);
    const lo = Math.max(durable, (firstSector + keptSectors - 1) * SECTOR_BYTES);
    const damage = rng.int(3);
    if (damage === 0) return 'torn-intact';
    const bytes = new Uint8Array(cut - lo);
    if (damage === 2) for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    data.write(lo, bytes);
    return damage === 1 ? 'torn-zeroed' : 'torn-garbled';
  }

  private static checkName(name: string): void {
    assert(name.length > 0 && !name.includes('/') && name !== '.' && name !== '..', `SimDisk: bad file name ${JSON.stringify(name)}`);
  }
}

/** What a handle asks of its disk. */
interface FileOps {
  /** Throws unless the handle is open and from the current generation. */
  check(f: SimFile, op: string): void;
  append(f: SimFile, data: Uint8Array): void;
  pread(f: SimFile, offset: number, length: number): Uint8Array;
  sync(f: SimFile, callback: SyncCallback): void;
  closed(): void;
}

/** An open file: a class, not an object of closures, since the store opens one per table read. */
class SimFile implements File {
  closed = false;

  constructor(
    readonly name: string,
    readonly inode: Inode,
    /** The disk's generation when opened: dead after a crash. */
    readonly generation: number,
    private readonly ops: FileOps,
  ) {}

  size(): number {
    this.ops.check(this, 'size');
    return this.inode.data.length;
  }

  append(data: Uint8Array): void {
    this.ops.check(this, 'append');
    this.ops.append(this, data);
  }

  pread(offset: number, length: number): Uint8Array {
    this.ops.check(this, 'pread');
    return this.ops.pread(this, offset, length);
  }

  sync(callback: SyncCallback): void {
    this.ops.check(this, 'sync');
    this.ops.sync(this, callback);
  }

  close(): void {
    this.ops.check(this, 'close');
    this.closed = true;
    this.ops.closed();
  }
}
