// Tombstone safety for one node: whether it must be rebuilt before it serves
// again (life_record.ts decides at open), refusing meanwhile, recording that
// it is alive while it serves, and running the rebuild (replica_rebuild.ts).
//
// While a rebuild is needed the node answers no read, write, scan or
// forwarded write, for peers or clients ('unavailable', definite: it took
// effect nowhere), and gossips that it needs one, so its peers leave it out
// (liveness.ts) and keep its writes as hints. Pings still get pongs: the node
// is up, only its data is suspect. The flag stays durable (REBUILD_META)
// until the rebuild has finished, so a crash midway starts it again.

import type { Env } from '../../io/env.ts';
import { LAST_ALIVE_META, REBUILD_META, encodeDecimal } from './life_record.ts';
import type { RecordWriter } from './record_writer.ts';
import type { RebuildProgress, ReplicaRebuild } from './replica_rebuild.ts';

export interface RefusedAnswer {
  ok: false;
  error: { code: 'unavailable'; message: string; definite: true };
}

export class RebuildGuard {
  private isNeeded: boolean;
  private running: ReplicaRebuild | null = null;
  private closed = false;

  constructor(
    private readonly d: {
      env: Env;
      writer: RecordWriter;
      /** A rebuild job over the node's current stores and topology. */
      newRebuild: () => ReplicaRebuild;
      /** Told when the node may serve again (gossip it). */
      onRebuilt: () => void;
      mark: (what: string) => void;
    },
    neededAtOpen: boolean,
  ) {
    this.isNeeded = neededAtOpen;
    if (neededAtOpen) d.mark('needs rebuild at open');
  }

  get needed(): boolean {
    return this.isNeeded;
  }

  get progress(): RebuildProgress | null {
    return this.running?.progress ?? null;
  }

  message(): string {
    const what = `node ${this.d.env.nodeId} was down longer than the tombstone grace period`;
    return this.running !== null ? `${what}; it is being rebuilt` : `${what}; rebuild it (or replace it) before it serves again`;
  }

  /** Answers a client request with the refusal when the node needs a rebuild; false if it may serve. */
  refuseClient(cb: (res: RefusedAnswer) => void): boolean {
    if (!this.isNeeded) return false;
    this.d.mark('client request refused: needs rebuild');
    cb({ ok: false, error: { code: 'unavailable', message: this.message(), definite: true } });
    return true;
  }

  /** Records that the node is running (not while it needs a rebuild: its data is not current). */
  recordAlive(): void {
    if (this.isNeeded || this.closed) return;
    this.d.writer.put(LAST_ALIVE_META, encodeDecimal(this.d.env.clock.wallMs()), undefined, () => {});
  }

  /** Runs the rebuild; calls back at once when none is needed. */
  rebuild(cb: (err: Error | null) => void): void {
    const later = (err: Error | null): void => void this.d.env.timers.setTimer(0, () => cb(err));
    if (!this.isNeeded) return later(null);
    if (this.running !== null) return later(new Error(`node ${this.d.env.nodeId}: a rebuild is already running`));
    const job = this.d.newRebuild();
    this.running = job;
    job.start((err) => {
      if (this.closed) return;
      if (err !== null) {
        this.running = null;
        return cb(err);
      }
      this.d.writer.remove(REBUILD_META, (removeErr) => {
        if (this.closed) return;
        if (removeErr !== null) {
          this.running = null;
          return cb(removeErr);
        }
        this.isNeeded = false;
        this.d.onRebuilt();
        this.recordAlive();
        cb(null);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.running?.stop();
  }
}
