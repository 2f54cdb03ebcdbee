// io/timers.ts over the simulator's event queue, for one incarnation of one
// node. The scheduler binds each timer to that incarnation, so after a crash
// none of the old incarnation's timers fire, even if the node was restarted.
// Delays are in the node's monotonic time, so a drifting clock fires its
// timers early or late in true time, as a real one would.
//
// Every simulated node sets timers all the time, so a timer is just its
// queued event: the callback goes into the queue as is (no wrapper closure,
// no set of pending ids) and the scheduler tells the owner when one runs.

import { AssertionError, assert } from '../io/assert.ts';
import type { TimerId, Timers } from '../io/timers.ts';
import type { EventId } from './event_queue.ts';
import type { SimClock } from './sim_clock.ts';

export interface TimerScheduler {
  /** Schedules `callback` after `delayMs` of true time, bound to this incarnation; calls `owner.fired()` just before running it. */
  scheduleTimer(delayMs: number, callback: () => void, owner: SimTimers): EventId;
  /** Cancels the event if it is a pending timer of `owner`; returns whether it was. */
  cancelTimer(id: EventId, owner: SimTimers): boolean;
}

export class SimTimers implements Timers {
  /** Timers scheduled and neither fired nor cancelled. */
  private pending = 0;

  constructor(
    private readonly scheduler: TimerScheduler,
    private readonly clock: SimClock,
  ) {}

  setTimer(delayMs: number, callback: () => void): TimerId {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new AssertionError(`setTimer: bad delay ${delayMs}`);
    const id: TimerId = this.scheduler.scheduleTimer(this.clock.trueDelayFor(delayMs), callback, this);
    this.pending++;
    return id;
  }

  cancelTimer(id: TimerId): void {
    if (this.scheduler.cancelTimer(id, this)) this.pending--;
    assert(this.pending >= 0, 'SimTimers: more timers cancelled than set');
  }

  /** The scheduler is about to run one of this incarnation's timers. */
  fired(): void {
    this.pending--;
    assert(this.pending >= 0, 'SimTimers: a timer fired that was not pending');
  }

  /** Timers that have neither fired nor been cancelled (after a crash: those that never will). */
  get pendingCount(): number {
    return this.pending;
  }
}
