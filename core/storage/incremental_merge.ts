// Drives a merge (compaction_merge.ts) into a table sink in bounded steps: each
// step consumes about stepBytes of input, charges what it wrote to the rate
// limiter, and schedules the next step through Timers after the limiter's
// wait. Between steps the event loop serves reads and writes, and the
// simulator may crash the node. Flush and compaction are both this loop.

import { assert } from '../../io/assert.ts';
import type { Buggify } from '../../io/buggify.ts';
import type { Clock } from '../../io/clock.ts';
import type { TimerId, Timers } from '../../io/timers.ts';
import type { CompactionMerge } from './compaction_merge.ts';
import type { RateLimiter } from './rate_limiter.ts';
import type { TableSink } from './table_sink.ts';
import type { TableMeta } from './version_edit.ts';

export interface JobEnv {
  timers: Timers;
  limiter: RateLimiter;
  stepBytes: number;
  buggify: Buggify;
  /**
   * With both: a step also ends once stepMs have passed on the clock's
   * monotonic time (checked every few entries), so a slow step (cold
   * blocks, a loaded machine) does not hold reads for longer than that.
   */
  clock?: Clock;
  stepMs?: number;
  /**
   * Multiplies stepBytes and stepMs at each step (1 when absent). A flush
   * grows its steps as the active memtable fills behind it: a flush that
   * falls behind stops every write, which costs far more than longer steps.
   */
  scale?: () => number;
}

/** Entries between looks at the clock in a time-bounded step. */
const CLOCK_CHECK_ENTRIES = 32;

export type JobCallback = (err: Error | null, tables?: TableMeta[]) => void;

export class IncrementalMerge {
  private timer: TimerId | undefined;
  private state: 'idle' | 'running' | 'finishing' | 'done' | 'cancelled' = 'idle';
  steps = 0;

  constructor(
    private readonly env: JobEnv,
    /** Positions the source and builds the merge; runs inside the first step, so its errors are the job's. */
    private readonly openMerge: () => CompactionMerge,
    private readonly sink: TableSink,
    private readonly done: JobCallback,
  ) {
    assert(env.stepBytes > 0, 'step size must be positive');
  }

  private merge: CompactionMerge | null = null;

  /** Starts the first step on a later turn of the event loop. */
  start(): void {
    assert(this.state === 'idle', `start() on a ${this.state} job`);
    this.state = 'running';
    this.schedule(0);
  }

  /** Stops the job and removes its outputs; its callback is never called. */
  cancel(): void {
    if (this.state === 'done' || this.state === 'cancelled') return;
    this.state = 'cancelled';
    if (this.timer !== undefined) this.env.timers.cancelTimer(this.timer);
    this.timer = undefined;
    this.sink.abandon();
  }

  get inputBytes(): number {
    return this.merge?.counts.inputBytes ?? 0;
  }

  get counts(): CompactionMerge['counts'] | undefined {
    return this.merge?.counts;
  }

  private schedule(delayMs: number): void {
    this.timer = this.env.timers.setTimer(delayMs, () => {
      this.timer = undefined;
      this.step();
    });
  }

  private step(): void {
    if (this.state !== 'running') return;
    this.steps++;
    const writtenBefore = this.sink.bytesWritten();
    let exhausted = false;
    const scale = this.env.scale?.() ?? 1;
    assert(scale >= 1, `merge step scale ${scale}`);
    try {
      this.merge ??= this.openMerge();
      const limit = this.merge.counts.inputBytes + (this.env.buggify('storage: tiny merge step') ? 1 : this.env.stepBytes * scale);
      const { clock, stepMs } = this.env;
      const deadline = clock !== undefined && stepMs !== undefined ? clock.monotonicMs() + stepMs * scale : Infinity;
      let sinceCheck = 0;
      while (this.merge.counts.inputBytes < limit) {
        const entry = this.merge.next();
        if (entry === undefined) {
          exhausted = true;
          break;
        }
        this.sink.add(entry);
        if (deadline !== Infinity && ++sinceCheck === CLOCK_CHECK_ENTRIES) {
          sinceCheck = 0;
          if (clock!.monotonicMs() >= deadline) break;
        }
      }
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    const wait = this.env.limiter.charge(this.sink.bytesWritten() - writtenBefore);
    if (!exhausted) {
      this.schedule(wait);
      return;
    }
    this.state = 'finishing';
    this.sink.finish((err, tables) => {
      if (this.state !== 'finishing') return;
      if (err !== null) {
        this.fail(err);
        return;
      }
      this.state = 'done';
      this.done(null, tables);
    });
  }

  private fail(err: Error): void {
    this.state = 'done';
    this.sink.abandon();
    this.done(err);
  }
}
