// Runs compactions one at a time, as the picker (leveled or tiered) asks for
// them: a lone table with nothing to merge below moves by a manifest edit
// alone; anything else is an incremental CompactionJob whose outputs are
// installed by one manifest edit that also retires its inputs.
//
// Failures: a corrupt input stops the compaction (its outputs are removed,
// its inputs stay live and readable) and the table is excluded from later
// picks, so one bad table cannot stall compaction in a loop; a full disk or a
// read error is retried after a pause; anything else stops the engine.

import { assert } from '../../io/assert.ts';
import { DiskFullError, DiskReadError } from '../../io/disk.ts';
import type { TimerId, Timers } from '../../io/timers.ts';
import { CompactionJob } from './compaction_job.ts';
import type { CompactionPicker, CompactionPlan } from './compaction_plan.ts';
import { CorruptionError } from './errors.ts';
import type { TableOutputDeps } from './flush_job.ts';
import type { JobEnv } from './incremental_merge.ts';
import { parseFileName, type ManifestLog } from './manifest.ts';
import type { TableCache } from './table_cache.ts';
import type { TableMeta, VersionEdit } from './version_edit.ts';
import type { VersionSet } from './version_set.ts';

export const RETRY_MS = 1000;

type Callback = (err: Error | null) => void;

/** What the scheduler needs from the engine. */
export interface CompactionHost {
  readonly versions: VersionSet;
  readonly manifest: ManifestLog;
  readonly tableCache: TableCache;
  readonly timers: Timers;
  readonly jobEnv: JobEnv;
  readonly graceMs: number;
  outputDeps(): TableOutputDeps;
  /** Newest acknowledged seq: versions above it are never dropped. */
  snapshotSeq(): number;
  wallMs(): number;
  /** False once the engine is closed or stopped. */
  running(): boolean;
  /** Whether a flush is under way (compactAll waits for the tables it adds). */
  flushing(): boolean;
  /** A new version is installed: obsolete files may go, held writes may proceed. */
  onInstalled(): void;
  /** An error after which the disk state is unknown: the engine stops. */
  fail(err: Error): void;
}

export interface CompactionStats {
  compactionsRun: number;
  trivialMoves: number;
  bytesWritten: number;
  shadowedDropped: number;
  tombstonesPurged: number;
  expiredPurged: number;
  corruptTablesFound: number;
  errors: number;
}

export class CompactionScheduler {
  /** Tables found corrupt: never picked again. */
  readonly excluded = new Set<number>();
  readonly stats: CompactionStats = {
    compactionsRun: 0, trivialMoves: 0, bytesWritten: 0, shadowedDropped: 0, tombstonesPurged: 0, expiredPurged: 0,
    corruptTablesFound: 0, errors: 0,
  };
  private current: { plan: CompactionPlan; job: CompactionJob | null } | null = null;
  private retryTimer: TimerId | undefined;
  private waiters: Array<{ cb: Callback; err: Error | null }> = [];

  constructor(
    private readonly host: CompactionHost,
    private readonly picker: CompactionPicker,
  ) {}

  get busy(): boolean {
    return this.current !== null;
  }

  /** Table files a running compaction has created and not yet installed. */
  pendingOutputs(): readonly number[] {
    return this.current?.job?.sink.fileNumbers ?? [];
  }

  pick(): CompactionPlan | undefined {
    return this.picker.pick(this.host.versions.current, this.host.versions.compactPointers, this.excluded);
  }

  /** Whether compaction will make progress (a level at its stop trigger is then worth waiting for). */
  canProgress(): boolean {
    return this.current !== null || this.retryTimer !== undefined || this.pick() !== undefined;
  }

  /** Starts the next compaction if one is due and none is running. */
  maybeSchedule(): void {
    if (!this.host.running() || this.current !== null || this.retryTimer !== undefined) return;
    const plan = this.pick();
    if (plan === undefined) {
      this.notifyIfIdle();
      return;
    }
    const current: { plan: CompactionPlan; job: CompactionJob | null } = { plan, job: null };
    this.current = current;
    if (plan.trivialMove) {
      const { level, table } = plan.inputs[0]!;
      assert(level + 1 === plan.outputLevel, 'a move goes one level down');
      this.install(plan, [table], () => this.stats.trivialMoves++);
      return;
    }
    const { host } = this;
    current.job = new CompactionJob(
      host.jobEnv,
      { ...host.outputDeps(), tableCache: host.tableCache },
      plan,
      { snapshotSeq: host.snapshotSeq(), nowMs: host.wallMs(), graceMs: host.graceMs },
      (err, tables) => {
        if (!host.running()) return;
        if (err !== null) return this.onJobError(plan, err);
        this.install(plan, tables!, () => {
          const s = this.stats;
          s.compactionsRun++;
          const counts = current.job?.counts;
          if (counts !== undefined) {
            s.shadowedDropped += counts.shadowed;
            s.tombstonesPurged += counts.purgedTombstones;
            s.expiredPurged += counts.purgedExpired;
          }
          for (const t of tables!) s.bytesWritten += t.fileBytes;
        });
      },
    );
    current.job.start();
  }

  /** Calls back once the picker has nothing left to do, with the first compaction error met meanwhile. */
  compactAll(cb: Callback): void {
    this.waiters.push({ cb, err: null });
    this.maybeSchedule();
    this.notifyIfIdle();
  }

  /** Answers compactAll() callers if nothing is running or due. */
  notifyIfIdle(): void {
    if (this.waiters.length === 0 || this.current !== null || this.retryTimer !== undefined || this.host.flushing()) return;
    if (this.pick() !== undefined) return;
    this.answerWaiters();
  }

  /** Stops: cancels the running job (removing its outputs) and the retry timer; compactAll callers get `err`. */
  stop(err: Error): void {
    this.current?.job?.cancel();
    if (this.retryTimer !== undefined) this.host.timers.cancelTimer(this.retryTimer);
    this.retryTimer = undefined;
    for (const w of this.waiters) w.err ??= err;
    this.answerWaiters();
  }

  private install(plan: CompactionPlan, outputs: TableMeta[], count: () => void): void {
    const { host } = this;
    const edit: VersionEdit = {
      deletedTables: plan.inputs.map((i) => ({ level: i.level, fileNumber: i.table.fileNumber })),
      addedTables: outputs.map((table) => ({ level: plan.outputLevel, table })),
      nextFileNumber: host.versions.nextFileNumber,
      ...(plan.compactPointer ? { compactPointers: [plan.compactPointer] } : {}),
    };
    host.manifest.logAndApply(edit, (err) => {
      if (!host.running()) return;
      if (err !== null) return host.fail(err);
      count();
      this.current = null;
      host.onInstalled();
      this.maybeSchedule();
    });
  }

  private onJobError(plan: CompactionPlan, err: Error): void {
    this.current = null;
    this.stats.errors++;
    for (const w of this.waiters) w.err ??= err;
    if (err instanceof CorruptionError) {
      this.stats.corruptTablesFound++;
      const bad = err.file !== undefined ? parseFileName(err.file) : undefined;
      if (bad?.kind === 'table') this.excluded.add(bad.number);
      else for (const i of plan.inputs) this.excluded.add(i.table.fileNumber);
      this.host.onInstalled(); // nothing changed on disk, but writes held for this compaction may go on
      this.maybeSchedule();
      return;
    }
    if (!(err instanceof DiskFullError || err instanceof DiskReadError)) return this.host.fail(err);
    this.answerWaiters();
    this.retryTimer = this.host.timers.setTimer(RETRY_MS, () => {
      this.retryTimer = undefined;
      this.maybeSchedule();
    });
  }

  private answerWaiters(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    this.host.timers.setTimer(0, () => {
      for (const w of waiters) w.cb(w.err);
    });
  }
}
