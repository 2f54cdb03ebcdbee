// io/timers.ts's Timers over Node's timers. A zero delay uses setImmediate:
// it runs on the next turn of the event loop, after pending I/O callbacks,
// without setTimeout's 1 ms floor, which would cap a step-per-timer
// compaction at a thousand steps a second.

import { assert } from '../io/assert.ts';
import type { TimerId, Timers } from '../io/timers.ts';

type Pending = { immediate: NodeJS.Immediate; timeout?: never } | { timeout: NodeJS.Timeout; immediate?: never };

export interface NodeTimersOptions {
  /** Whether a pending timer keeps the process alive (default true). */
  keepAlive?: boolean;
}

export class NodeTimers implements Timers {
  private nextId = 1;
  private readonly pending = new Map<TimerId, Pending>();
  private readonly keepAlive: boolean;
  private readonly fire = (id: TimerId, callback: () => void): void => {
    this.pending.delete(id);
    callback();
  };

  constructor(options: NodeTimersOptions = {}) {
    this.keepAlive = options.keepAlive ?? true;
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    // The message is formatted only on failure: this runs several times per request.
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) assert(false, `timer delay ${delayMs}`);
    const id = this.nextId++;
    // One shared bound function with arguments, not a closure per timer:
    // compaction and group commit set timers at a high rate.
    if (delayMs === 0) {
      const immediate = setImmediate(this.fire, id, callback);
      if (!this.keepAlive) immediate.unref();
      this.pending.set(id, { immediate });
    } else {
      const timeout = setTimeout(this.fire, delayMs, id, callback);
      if (!this.keepAlive) timeout.unref();
      this.pending.set(id, { timeout });
    }
    return id;
  }

  cancelTimer(id: TimerId): void {
    const p = this.pending.get(id);
    if (!p) return; // fired or cancelled already
    this.pending.delete(id);
    if (p.immediate) clearImmediate(p.immediate);
    else clearTimeout(p.timeout);
  }

  /** Timers set and neither fired nor cancelled. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Cancels every pending timer (shutdown). */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.cancelTimer(id);
  }
}
