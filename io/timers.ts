// Timers are how a state machine schedules its own future work: a timeout, the
// next bounded step of a compaction, a gossip round. In the simulator they are
// events in the one event queue; in the real runtime, setTimeout.

export type TimerId = number;

export interface Timers {
  /** Calls `callback` once after `delayMs` (>= 0) of monotonic time. */
  setTimer(delayMs: number, callback: () => void): TimerId;
  /** Cancels a timer that has not fired; cancelling a fired timer is a no-op. */
  cancelTimer(id: TimerId): void;
}
