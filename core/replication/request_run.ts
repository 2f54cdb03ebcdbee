// One client request on its way through a coordinator: a deadline timer and
// a completion that happens exactly once, whichever of the replies, a
// failure or the deadline comes first. What the deadline answers depends on
// how far the request got, so each phase installs its own handler.

import { assert } from '../../io/assert.ts';
import type { TimerId, Timers } from '../../io/timers.ts';
import type { Deadline } from './coordinator_deps.ts';

export class RequestRun<R> {
  private done = false;
  private readonly timer: TimerId;
  private onDeadline: () => R;

  constructor(
    private readonly timers: Timers,
    readonly deadline: Deadline,
    private readonly complete: (response: R) => void,
    /** The answer if the deadline passes before any phase installs another. */
    onDeadline: () => R,
  ) {
    this.onDeadline = onDeadline;
    this.timer = timers.setTimer(deadline.remainingMs(), () => {
      if (!this.done) this.finish(this.onDeadline());
    });
  }

  get finished(): boolean {
    return this.done;
  }

  /** What the deadline answers from now on. */
  whenDeadline(handler: () => R): void {
    this.onDeadline = handler;
  }

  finish(response: R): void {
    assert(!this.done, 'a request finishes once');
    this.done = true;
    this.timers.cancelTimer(this.timer);
    this.complete(response);
  }

  /** Finishes unless already finished (for replies that may race the deadline). */
  finishIfOpen(response: R): void {
    if (!this.done) this.finish(response);
  }
}

/** Wraps a client callback so that a second call is an assertion failure. */
export function once<A>(cb: (a: A) => void, what: string): (a: A) => void {
  let called = false;
  return (a: A) => {
    if (called) assert(false, `${what}: callback called twice`);
    called = true;
    cb(a);
  };
}
