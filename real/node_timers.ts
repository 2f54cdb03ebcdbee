// io/timers.ts's Timers over Node's timers. A zero delay uses setImmediate:
// it runs on the next turn of the event loop, after pending I/O callbacks,
// without setTimeout's 1 ms floor, which would cap a step-per-timer
// compaction at a thousand steps a second.

import { assert } from '../io/assert.ts';
import type { TimerId, Timers } from '../io/timers.ts';

export interface NodeTimersOptions {
  /** Whether a pending timer keeps the process alive (default true). */
  keepAlive?: boolean;
}

export class NodeTimers implements Timers {
  private nextId = 1;
  // Two maps holding Node's handles themselves, not one map of wrappers:
  // several timers are set per request, and a wrapper object each was
  // garbage for every one.
  private readonly timeouts = new Map<TimerId, NodeJS.Timeout>();
  private readonly immediates = new Map<TimerId, NodeJS.Immediate>();
  private readonly keepAlive: boolean;
  private readonly fireTimeout = (id: TimerId, callback: () => void): void => {
    this.timeouts.delete(id);
    callback();
  };
  private readonly fireImmediate = (id: TimerId, callback: () => void): void => {
    this.immediates.delete(id);
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
      const immediate = setImmediate(this.fireImmediate, id, callback);
      if (!this.keepAlive) immediate.unref();
      this.immediates.set(id, immediate);
    } else {
      const timeout = setTimeout(this.fireTimeout, delayMs, id, callback);
      if (!this.keepAlive) timeout.unref();
      this.timeouts.set(id, timeout);
    }
    return id;
  }

  cancelTimer(id: TimerId): void {
    const timeout = this.timeouts.get(id);
    if (timeout !== undefined) {
      this.timeouts.delete(id);
      clearTimeout(timeout);
      return;
    }
    const immediate = this.immediates.get(id);
    if (immediate === undefined) return; // fired or cancelled already
    this.immediates.delete(id);
    clearImmediate(immediate);
  }

  /** Timers set and neither fired nor cancelled. */
  pendingCount(): number {
    return this.timeouts.size + this.immediates.size;
  }

  /** Cancels every pending timer (shutdown). */
  cancelAll(): void {
    for (const id of [...this.timeouts.keys(), ...this.immediates.keys()]) this.cancelTimer(id);
  }
}
