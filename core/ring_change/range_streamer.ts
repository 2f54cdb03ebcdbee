// The receiving side of range streaming: pulls each task's ranges (a keyspace,
// a source, token ranges: stream_plan.ts) page by page from the source and
// merges every record into this node's replica through the normal replica
// merge (ReplicaStore.apply), so versions, siblings and tombstones arrive as
// they are and a record that is already here, or newer here, is unchanged.
//
// - Throttled: after a page of b bytes the next request waits b / bytesPerSec.
// - Checkpointed: once a page's records are durable, the key the next page
//   resumes after is saved in the node's meta keys under the session's name
//   (one per topology version), and a finished task is saved as done; a
//   crash of this node resumes from the last checkpoint when the same session
//   starts again. A crash of the source (or a lost page) only delays: the
//   page is asked again after retryMs, from the same key, until it comes.
// - Tasks run one after another, a page at a time: a node never has more
//   than one page in flight, whatever the number of ranges it receives.
//
// Checkpoint value (meta `stream/<session>/<task index>`): one byte 1 then
// the resume key (a page's `next`), or the single byte 2 for a task done.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { Timers, TimerId } from '../../io/timers.ts';
import type { VersionedValue } from '../versioning/versioned_value.ts';
import { encodeVersionedValue } from '../versioning/versioned_value.ts';
import type { TokenRange } from '../ring/token_range.ts';
import type { StreamTask } from './stream_plan.ts';

export interface PageRequest {
  ks: string;
  ranges: readonly TokenRange[];
  after: Uint8Array | null;
  maxBytes: number;
}

export interface PageReply {
  items: { key: Uint8Array; value: VersionedValue }[];
  next: Uint8Array | null;
}

export interface RangeStreamerDeps {
  readonly timers: Timers;
  /** Asks `source` for a page; null when it did not answer in time or refused. */
  fetch(source: NodeId, request: PageRequest, cb: (reply: PageReply | null) => void): void;
  /** Merges one record into the local replica; calls back once durable. */
  apply(ks: string, key: Uint8Array, value: VersionedValue, cb: (err: Error | null) => void): void;
  loadCheckpoint(name: string): Uint8Array | undefined;
  saveCheckpoint(name: string, value: Uint8Array, cb: (err: Error | null) => void): void;
  mark(what: string): void;
}

export interface RangeStreamOptions {
  bytesPerSec: number;
  pageBytes: number;
  retryMs: number;
}

export const DEFAULT_STREAM_OPTIONS: RangeStreamOptions = { bytesPerSec: 4 << 20, pageBytes: 64 << 10, retryMs: 500 };

export interface StreamProgress {
  session: string;
  tasks: number;
  tasksDone: number;
  /** Records and bytes (key + stored version) received and merged by this run of the session. */
  records: number;
  bytes: number;
  pages: number;
  retries: number;
  done: boolean;
}

const RESUME = 1;
const DONE = 2;

export class RangeStreamer {
  private current = 0;
  private after: Uint8Array | null = null;
  private timer: TimerId | null = null;
  private stopped = false;
  private onDone: (() => void) | null = null;
  private readonly stats = { records: 0, bytes: 0, pages: 0, retries: 0 };

  constructor(
    private readonly d: RangeStreamerDeps,
    readonly session: string,
    readonly tasks: readonly StreamTask[],
    private readonly options: RangeStreamOptions = DEFAULT_STREAM_OPTIONS,
  ) {
    assert(/^[0-9a-z_.-]+$/i.test(session), `session name ${session}`);
    assert(options.bytesPerSec > 0 && options.pageBytes >= 1 && options.retryMs > 0, 'stream options');
  }

  /** Starts (or resumes from the checkpoints) and calls `onDone` once every task is done. */
  start(onDone: () => void): void {
    assert(this.onDone === null, 'stream started twice');
    this.onDone = onDone;
    this.d.mark('range stream started');
    this.resumeAt(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.d.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  progress(): StreamProgress {
    return { session: this.session, tasks: this.tasks.length, tasksDone: this.current, ...this.stats, done: this.current >= this.tasks.length };
  }

  private checkpointName(i: number): string {
    return `stream/${this.session}/${i}`;
  }

  /** Skips the tasks the checkpoints mark done and positions on the first open one. */
  private resumeAt(i: number): void {
    this.current = i;
    while (this.current < this.tasks.length) {
      const saved = this.d.loadCheckpoint(this.checkpointName(this.current));
      if (saved === undefined) {
        this.after = null;
        break;
      }
      assert(saved.length >= 1 && (saved[0] === DONE || saved[0] === RESUME), 'stream checkpoint format');
      if (saved[0] === DONE) {
        this.current++;
        continue;
      }
      this.d.mark('range stream resumed from checkpoint');
      this.after = saved.slice(1);
      break;
    }
    if (this.current >= this.tasks.length) {
      this.d.mark('range stream done');
      const done = this.onDone!;
      return void this.d.timers.setTimer(0, () => (this.stopped ? undefined : done()));
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.d.timers.setTimer(delayMs, () => {
      this.timer = null;
      this.requestPage();
    });
  }

  private requestPage(): void {
    if (this.stopped) return;
    const index = this.current;
    const task = this.tasks[index]!;
    const request: PageRequest = { ks: task.ks, ranges: task.ranges, after: this.after, maxBytes: this.options.pageBytes };
    this.d.fetch(task.source, request, (reply) => {
      if (this.stopped || index !== this.current) return;
      if (reply === null) {
        this.stats.retries++;
        this.d.mark('range stream page retried');
        return this.schedule(this.options.retryMs);
      }
      this.applyPage(index, reply);
    });
  }

  private applyPage(index: number, reply: PageReply): void {
    const task = this.tasks[index]!;
    let waiting = reply.items.length + 1;
    let failed = false;
    let bytes = 0;
    const settle = (err: Error | null): void => {
      if (err !== null) failed = true;
      if (--waiting > 0 || this.stopped) return;
      if (failed) {
        this.stats.retries++;
        this.d.mark('range stream apply failed');
        return this.schedule(this.options.retryMs);
      }
      this.stats.pages++;
      this.stats.records += reply.items.length;
      this.stats.bytes += bytes;
      const checkpoint = reply.next === null ? Uint8Array.of(DONE) : concat(RESUME, reply.next);
      this.d.saveCheckpoint(this.checkpointName(index), checkpoint, (saveErr) => {
        if (this.stopped) return;
        if (saveErr !== null) {
          this.stats.retries++;
          return this.schedule(this.options.retryMs);
        }
        const pause = Math.ceil((bytes * 1000) / this.options.bytesPerSec);
        if (reply.next === null) {
          this.d.mark('range stream task done');
          this.current = index + 1;
          if (this.current >= this.tasks.length) return this.resumeAt(this.current);
          this.after = null;
          return this.timerThen(pause, () => this.resumeAt(this.current));
        }
        this.after = reply.next;
        this.schedule(pause);
      });
    };
    for (const item of reply.items) {
      bytes += item.key.length + encodeVersionedValue(item.value).length;
      this.d.apply(task.ks, item.key, item.value, settle);
    }
    settle(null);
  }

  private timerThen(delayMs: number, fn: () => void): void {
    this.timer = this.d.timers.setTimer(delayMs, () => {
      this.timer = null;
      if (!this.stopped) fn();
    });
  }
}

function concat(tag: number, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out[0] = tag;
  out.set(key, 1);
  return out;
}
