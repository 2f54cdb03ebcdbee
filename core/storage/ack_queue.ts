// Acknowledgements of writes, strictly in seq order. A write is acknowledged
// (made visible to reads, its callback run) once its WAL record is durable
// and every write before it has been acknowledged; a barrier (the directory
// sync that makes a new WAL's name durable) holds back every write after it
// until it completes. Group commit completes many entries at once; this
// queue releases them in order.

import { assert } from '../../io/assert.ts';
import { Fifo } from './fifo.ts';

type Callback = (err: Error | null) => void;

/** One object per write (allocated on every write, so kept flat). */
export interface Ack {
  /** The write's last seq; 0 for a barrier. */
  readonly lastSeq: number;
  /** Undefined for a barrier. */
  readonly cb: Callback | undefined;
  done: boolean;
  err: Error | null;
}

export class AckQueue {
  private readonly queue = new Fifo<Ack>();
  private draining = false;

  constructor(
    /** Newest acknowledged seq: the snapshot reads use. */
    public visibleSeq: number,
    /** Called with the first error an entry completes with (the engine stops). */
    private readonly onError: (err: Error) => void,
    /** Called after each drain (close() waits for the queue to empty). */
    private readonly onDrained: () => void,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  unacknowledgedWrites(): number {
    let n = 0;
    for (const a of this.queue) if (a.cb !== undefined) n++;
    return n;
  }

  addWrite(lastSeq: number, cb: Callback): Ack {
    assert(lastSeq > 0, 'a write has a seq');
    const ack: Ack = { lastSeq, cb, done: false, err: null };
    this.queue.push(ack);
    return ack;
  }

  addBarrier(): Ack {
    const ack: Ack = { lastSeq: 0, cb: undefined, done: false, err: null };
    this.queue.push(ack);
    return ack;
  }

  /** Acknowledges every completed entry at the head of the queue. Re-entrant calls are absorbed. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.peek()?.done === true) {
        const ack = this.queue.shift()!;
        if (ack.err !== null) {
          this.onError(ack.err);
          ack.cb?.(ack.err);
          continue;
        }
        if (ack.cb === undefined) continue;
        assert(ack.lastSeq > this.visibleSeq, 'writes are acknowledged in seq order');
        this.visibleSeq = ack.lastSeq;
        ack.cb(null);
      }
    } finally {
      this.draining = false;
    }
    this.onDrained();
  }

  /** Fails every entry still waiting. */
  failAll(err: Error): void {
    for (const a of this.queue.drain()) a.cb?.(err);
  }
}
