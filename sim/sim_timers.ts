// io/timers.ts over the simulator's event queue, for one incarnation of one
// node. The scheduler binds each timer to that incarnation, so after a crash
// none of the old incarnation's timers fire, even if the node was restarted.
// Delays are in the node's monotonic time, so a drifting clock fires its
// timers early or late in true time, as a real one would.

import { assert } from '../io/assert.ts';
import type { TimerId, Timers } from '../io/timers.ts';
import type { EventId } from './event_queue.ts';
import type { SimClock } from './sim_clock.ts';

export interface TimerScheduler {
  /** Schedules `fn` after `delayMs` of true time, bound to this incarnation. */
  schedule(delayMs: number, kind: string, fn: () => void): EventId;
  cancel(id: EventId): void;
}

export class SimTimers implements Timers {
  /** Timers scheduled and neither fired nor cancelled. */
  private readonly pending = new Set<TimerId>();

  constructor(
    private readonly scheduler: TimerScheduler,
    private readonly clock: SimClock,
  ) {}

  setTimer(delayMs: number, callback: () => void): TimerId {
    assert(Number.isFinite(delayMs) && delayMs >= 0, `setTimer: bad delay ${delayMs}`);
    const id: TimerId = this.scheduler.schedule(this.clock.trueDelayFor(delayMs), 'timer', () => {
      assert(this.pending.delete(id), 'SimTimers: a timer fired that was not pending');
      callback();
    });
    this.pending.add(id);
    return id;
  }

  cancelTimer(id: TimerId): void {
    if (!this.pending.delete(id)) return;
    this.scheduler.cancel(id);
  }

  /** Timers that have neither fired nor been cancelled (after a crash: those that never will). */
  get pendingCount(): number {
    return this.pending.size;
  }
}
