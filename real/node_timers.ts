// io/timers.ts's Timers over Node's timers. A zero delay runs on the next
// turn of the event loop (setImmediate's check phase, after pending I/O
// callbacks), without setTimeout's 1 ms floor, which would cap a
// step-per-timer compaction at a thousand steps a second.
//
// Zero-delay timers set during one turn share one setImmediate and run in
// the order they were set: the replication layer sets two per request (a
// call to the local replica and its reply), so one Immediate per timer was a
// Node object, a list insertion and a wrapper per request each.

import { assert } from '../io/assert.ts';
import type { TimerId, Timers } from '../io/timers.ts';

export interface NodeTimersOptions {
  /** Whether a pending timer keeps the process alive (default true). */
  keepAlive?: boolean;
}

export class NodeTimers implements Timers {
  private nextId = 1;
  /** Pending zero-delay callbacks by id; ids grow, so iteration is the order they were set. */
  private readonly soon = new Map<TimerId, () => void>();
  private soonScheduled = false;
  private readonly delayed = new Map<TimerId, NodeJS.Timeout>();
  private readonly keepAlive: boolean;
  private readonly fire = (id: TimerId, callback: () => void): void => {
    this.delayed.delete(id);
    callback();
  };
  private readonly runSoon = (): void => {
    this.soonScheduled = false;
    // Timers set by these callbacks (ids from `end` on) wait for the next turn.
    const end = this.nextId;
    try {
      for (const [id, callback] of this.soon) {
        if (id >= end) break;
        this.soon.delete(id);
        callback();
      }
    } finally {
      if (this.soon.size > 0) this.scheduleSoon();
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
      this.soon.set(id, callback);
      if (!this.soonScheduled) this.scheduleSoon();
    } else {
      // One shared bound function with arguments, not a closure per timer:
      // compaction and group commit set timers at a high rate.
      const timeout = setTimeout(this.fire, delayMs, id, callback);
      if (!this.keepAlive) timeout.unref();
      this.delayed.set(id, timeout);
    }
    return id;
  }

  cancelTimer(id: TimerId): void {
    if (this.soon.delete(id)) return;
    const timeout = this.delayed.get(id);
    if (timeout === undefined) return; // fired or cancelled already
    this.delayed.delete(id);
    clearTimeout(timeout);
  }

  /** Timers set and neither fired nor cancelled. */
  pendingCount(): number {
    return this.soon.size + this.delayed.size;
  }

  /** Cancels every pending timer (shutdown). */
  cancelAll(): void {
    this.soon.clear();
    for (const timeout of this.delayed.values()) clearTimeout(timeout);
    this.delayed.clear();
  }

  private scheduleSoon(): void {
    this.soonScheduled = true;
    const immediate = setImmediate(this.runSoon);
    if (!this.keepAlive) immediate.unref();
  }
}
