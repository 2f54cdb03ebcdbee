// A node's part in moving ranges: when its topology has ranges moving to it
// (a join, or a decommission, removal or replacement that makes it a new
// replica), it pulls them (stream_plan.ts) with a RangeStreamer over peer
// `stream` requests, one session per topology version, so a restart with the
// same topology resumes from the checkpoints. When a node pulls, and when
// phases change (joining -> normal, leaving -> left or removed), is
// ring_phase_driver.ts's business; this service receives and reports.

import type { NodeId } from '../../io/network.ts';
import type { Timers } from '../../io/timers.ts';
import type { Topology } from '../ring/topology.ts';
import type { VersionedValue } from '../versioning/versioned_value.ts';
import { encodeRanges } from './range_pages.ts';
import { DEFAULT_STREAM_OPTIONS, type PageReply, type PageRequest, RangeStreamer, type RangeStreamOptions, type StreamProgress } from './range_streamer.ts';
import { planStreams } from './stream_plan.ts';

export interface RingChangeDeps {
  readonly self: NodeId;
  readonly timers: Timers;
  topology(): Topology;
  /** Name and N of every keyspace. */
  keyspaces(): readonly { name: string; replicationFactor: number }[];
  /** A `stream` request to a peer; null on timeout or failure. */
  requestPage(source: NodeId, request: { ks: string; ranges: Uint8Array; after: Uint8Array | null; maxBytes: number }, cb: (reply: PageReply | null) => void): void;
  apply(ks: string, key: Uint8Array, value: VersionedValue, cb: (err: Error | null) => void): void;
  loadMeta(name: string): Uint8Array | undefined;
  saveMeta(name: string, value: Uint8Array, cb: (err: Error | null) => void): void;
  mark(what: string): void;
}

export class RingChangeService {
  private streamer: RangeStreamer | null = null;
  private finished = new Set<string>();

  constructor(
    private readonly d: RingChangeDeps,
    private readonly options: RangeStreamOptions = DEFAULT_STREAM_OPTIONS,
  ) {}

  /**
   * Pulls what this node must receive under its current topology, sources in
   * `dead` left out (a node being removed or replaced). Starting the session
   * that is already running does nothing; another session replaces it.
   */
  streamPendingRanges(dead: readonly NodeId[] = []): void {
    const topology = this.d.topology();
    const session = `t${topology.version.toString(36)}`;
    if (this.streamer?.session === session) return;
    this.streamer?.stop();
    const keyspaces = this.d.keyspaces().map((k) => ({ name: k.name, n: k.replicationFactor }));
    const tasks = planStreams(topology, this.d.self, keyspaces, new Set(dead));
    const streamer = new RangeStreamer(
      {
        timers: this.d.timers,
        fetch: (source, request: PageRequest, cb) =>
          this.d.requestPage(source, { ks: request.ks, ranges: encodeRanges(request.ranges), after: request.after, maxBytes: request.maxBytes }, cb),
        apply: this.d.apply,
        loadCheckpoint: this.d.loadMeta,
        saveCheckpoint: this.d.saveMeta,
        mark: this.d.mark,
      },
      session,
      tasks,
      this.options,
    );
    this.streamer = streamer;
    streamer.start(() => this.finished.add(session));
  }

  /** The current session's progress; null before any. */
  progress(): StreamProgress | null {
    return this.streamer?.progress() ?? null;
  }

  /** Whether this node has received everything its current topology moves to it (true when nothing moves to it). */
  caughtUp(): boolean {
    const s = this.streamer;
    return s !== null && s.session === `t${this.d.topology().version.toString(36)}` && this.finished.has(s.session);
  }

  stop(): void {
    this.streamer?.stop();
  }
}
