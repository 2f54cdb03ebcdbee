// io/timers.ts's Timers over Node's timers. A zero delay uses setImmediate:
// it runs on the next turn of the event loop, after pending I/O callbacks,
// without setTimeout's 1 ms floor, which would cap a step-per-timer
// compaction at a thousand steps a second. Zero-delay timers set in one turn
// share one Node immediate and run in the order they were set; their ids
// increase, so a cancel finds one by binary search, with no map entry and
// no Immediate object per timer (a request sets several).
//
// Long delays (COARSE_FROM_MS and up) are request deadlines: several per
// request, almost all cancelled when the answer comes first. They share one
// Node timer per SLOT_MS-wide slot of due times and fire at the end of
// their slot, so at most SLOT_MS late and never early. Each costs a map
// entry and an array slot, not a Node Timeout object (with its argument
// array and its place in Node's timer lists), which at a few thousand
// requests a second was a steady share of what a node allocated.

import { performance } from 'node:perf_hooks';
import { assert } from '../io/assert.ts';
import { SlabMap } from '../io/slab_map.ts';
import type { TimerId, Timers } from '../io/timers.ts';

export interface NodeTimersOptions {
  /** Whether a pending timer keeps the process alive (default true). */
  keepAlive?: boolean;
}

/** Delays from this long on go into shared slots. */
export const COARSE_FROM_MS = 100;
/** Width of a slot: how late a long timer may fire. */
export const SLOT_MS = 8;

export class NodeTimers implements Timers {
  private nextId = 1;
  // SlabMaps, not Maps: timers come and go thousands of times a second (io/slab_map.ts says why that matters).
  /** Delays between 0 and COARSE_FROM_MS: Node's own handles, not wrappers. */
  private readonly timeouts = new SlabMap<TimerId, NodeJS.Timeout>();
  /** Zero-delay timers waiting for the next batch: ids ascending, callbacks (null once cancelled). */
  private queuedIds: TimerId[] = [];
  private queuedCallbacks: Array<(() => void) | null> = [];
  /** The batch being run, for a callback that cancels a later timer of its own batch. */
  private runningIds: TimerId[] = [];
  private runningCallbacks: Array<(() => void) | null> = [];
  private batch: NodeJS.Immediate | null = null;
  private immediatesPending = 0;
  /** Pending long timers by id; a cancelled one is simply removed (its slot skips it). */
  private readonly coarse = new SlabMap<TimerId, () => void>();
  /** Slot number (end of slot / SLOT_MS) -> the ids due in it and the Node timer that fires it. */
  private readonly slots = new SlabMap<number, { ids: TimerId[]; timer: NodeJS.Timeout }>();
  private readonly keepAlive: boolean;
  private readonly fireTimeout = (id: TimerId, callback: () => void): void => {
    this.timeouts.delete(id);
    callback();
  };
  private readonly runBatch = (): void => {
    const ids = this.queuedIds;
    const callbacks = this.queuedCallbacks;
    this.queuedIds = [];
    this.queuedCallbacks = [];
    this.batch = null;
    this.runningIds = ids;
    this.runningCallbacks = callbacks;
    let i = 0;
    try {
      for (; i < callbacks.length; i++) {
        const callback = callbacks[i];
        if (callback === null || callback === undefined) continue;
        callbacks[i] = null;
        this.immediatesPending--;
        callback();
      }
    } finally {
      this.runningIds = [];
      this.runningCallbacks = [];
      // A callback threw: the rest of its batch runs first in the next one.
      if (i < callbacks.length - 1) {
        this.queuedIds = ids.slice(i + 1).concat(this.queuedIds);
        this.queuedCallbacks = callbacks.slice(i + 1).concat(this.queuedCallbacks);
        this.scheduleBatch();
      }
    }
  };
  private readonly fireSlot = (slot: number): void => {
    const { ids } = this.slots.take(slot)!;
    for (const id of ids) {
      const callback = this.coarse.take(id);
      if (callback === undefined) continue; // cancelled
      callback();
    }
  };

  constructor(options: NodeTimersOptions = {}) {
    this.keepAlive = options.keepAlive ?? true;
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    // The message is formatted only on failure: this runs several times per request.
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) assert(false, `timer delay ${delayMs}`);
    const id = this.nextId++;
    if (delayMs === 0) {
      this.queuedIds.push(id);
      this.queuedCallbacks.push(callback);
      this.immediatesPending++;
      this.scheduleBatch();
    } else if (delayMs >= COARSE_FROM_MS) {
      this.coarse.set(id, callback);
      this.addToSlot(id, delayMs);
    } else {
      // One shared function with arguments, not a closure per timer: group commit and write slowdowns set these.
      const timeout = setTimeout(this.fireTimeout, delayMs, id, callback);
      if (!this.keepAlive) timeout.unref();
      this.timeouts.set(id, timeout);
    }
    return id;
  }

  cancelTimer(id: TimerId): void {
    if (this.coarse.delete(id)) return;
    const timeout = this.timeouts.take(id);
    if (timeout !== undefined) {
      clearTimeout(timeout);
      return;
    }
    // A zero-delay timer, or one fired or cancelled already (a no-op).
    if (cancelIn(this.queuedIds, this.queuedCallbacks, id) || cancelIn(this.runningIds, this.runningCallbacks, id)) this.immediatesPending--;
  }

  /** Timers set and neither fired nor cancelled. */
  pendingCount(): number {
    return this.timeouts.size + this.immediatesPending + this.coarse.size;
  }

  /** Cancels every pending timer (shutdown). */
  cancelAll(): void {
    for (const id of [...this.timeouts.keys(), ...this.queuedIds, ...this.runningIds]) this.cancelTimer(id);
    if (this.batch !== null) clearImmediate(this.batch);
    this.batch = null;
    this.coarse.clear();
    for (const { timer } of this.slots.values()) clearTimeout(timer);
    this.slots.clear();
  }

  private scheduleBatch(): void {
    if (this.batch !== null) return;
    this.batch = setImmediate(this.runBatch);
    if (!this.keepAlive) this.batch.unref();
  }

  private addToSlot(id: TimerId, delayMs: number): void {
    const now = performance.now();
    const slot = Math.ceil((now + delayMs) / SLOT_MS);
    const pending = this.slots.get(slot);
    if (pending !== undefined) {
      pending.ids.push(id);
      return;
    }
    // Node may fire up to a millisecond early by performance.now(): one more keeps "never early".
    const timer = setTimeout(this.fireSlot, slot * SLOT_MS - now + 1, slot);
    if (!this.keepAlive) timer.unref();
    this.slots.set(slot, { ids: [id], timer });
  }
}

/** Cancels `id` if it is in `ids` (ascending) with its callback still set; whether it was. */
function cancelIn(ids: readonly TimerId[], callbacks: Array<(() => void) | null>, id: TimerId): boolean {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = ids[mid]!;
    if (at === id) {
      if (callbacks[mid] === null) return false;
      callbacks[mid] = null;
      return true;
    }
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
