// Runs compactions one at a time, as the picker (leveled or tiered) asks for
// them: a lone table with nothing to merge below moves by a manifest edit
// alone; anything else is an incremental CompactionJob whose outputs are
// installed by one manifest edit that also retires its inputs.
//
// Failures: a corrupt input stops the compaction (its outputs are removed)
// and the table is quarantined; if the error names no table, the inputs are
// excluded from later picks instead, so one bad table cannot stall compaction
// in a loop. A full disk or a read error is retried after a pause; anything
// else stops the engine.
//
// Quarantine (salvage of a corrupt table, found by a read, a scan or a
// compaction): a manifest edit removes the table from the live version, then
// the file is renamed to <name>.corrupt for forensics. Its keys fall back to
// older versions in lower levels (or vanish) until replication repair refills
// them; every other key keeps being served. The edit runs while no compaction
// is installing, so the table's level cannot change under it: a running
// compaction that reads the table is cancelled first, any other finishes first.
// The rename is not synced: a crash may lose it, and the next obsolete-file
// sweep then deletes the table instead of keeping it.

import { assert } from '../../io/assert.ts';
import { DiskFullError, DiskReadError } from '../../io/disk.ts';
import type { TimerId, Timers } from '../../io/timers.ts';
import { CompactionJob } from './compaction_job.ts';
import type { CompactionPicker, CompactionPlan } from './compaction_plan.ts';
import { CorruptionError } from './errors.ts';
import type { TableOutputDeps } from './flush_job.ts';
import type { JobEnv } from './incremental_merge.ts';
import { parseFileName, tableFileName, type ManifestLog } from './manifest.ts';
import { outputBlockBudget } from './table_sink.ts';
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
  /** Renames a quarantined table's file (whose edit is durable) out of the way. */
  retireCorrupt(fileNumber: number): void;
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

/** A table removed from the live version because it is corrupt. */
export interface QuarantinedTable {
  level: number;
  fileNumber: number;
  /** The file as renamed, kept for forensics. */
  file: string;
  fileBytes: number;
  entryCount: number;
  smallestKey: Uint8Array;
  largestKey: Uint8Array;
  /** Whether the manifest edit removing it is durable. */
  installed: boolean;
}

export class CompactionScheduler {
  /** Tables found corrupt: never picked again. */
  readonly excluded = new Set<number>();
  readonly stats: CompactionStats = {
    compactionsRun: 0, trivialMoves: 0, bytesWritten: 0, shadowedDropped: 0, tombstonesPurged: 0, expiredPurged: 0,
    corruptTablesFound: 0, errors: 0,
  };
  /** Tables quarantined (or being quarantined) since open, in the order found. */
  readonly quarantined: QuarantinedTable[] = [];
  private readonly quarantineQueue: number[] = [];
  private quarantining = false;
  private current: { plan: CompactionPlan; job: CompactionJob | null; installing: boolean } | null = null;
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

  /**
   * Removes a corrupt live table from the version (see the top of the file).
   * Tables not live in the current version (already gone, or read through an
   * older version) and tables already quarantined are ignored.
   */
  quarantine(fileNumber: number): void {
    if (!this.host.running() || this.quarantined.some((q) => q.fileNumber === fileNumber)) return;
    const found = this.findLive(fileNumber);
    if (found === undefined) return;
    const { level, table } = found;
    this.quarantined.push({
      level, fileNumber, file: `${tableFileName(fileNumber)}.corrupt`, fileBytes: table.fileBytes, entryCount: table.entryCount,
      smallestKey: table.smallestKey, largestKey: table.largestKey, installed: false,
    });
    this.quarantineQueue.push(fileNumber);
    const running = this.current;
    if (running !== null && !running.installing && running.job !== null && running.plan.inputs.some((i) => i.table.fileNumber === fileNumber)) {
      running.job.cancel();
      this.current = null;
    }
    this.pumpQuarantine();
  }

  private findLive(fileNumber: number): { level: number; table: TableMeta } | undefined {
    const levels = this.host.versions.current.levels;
    for (let level = 0; level < levels.length; level++) {
      const table = levels[level]!.find((t) => t.fileNumber === fileNumber);
      if (table !== undefined) return { level, table };
    }
    return undefined;
  }

  /** Installs queued quarantines one edit at a time, whenever no compaction is installing. */
  private pumpQuarantine(): void {
    if (this.quarantining || this.quarantineQueue.length === 0 || !this.host.running()) return;
    if (this.current !== null) return; // resumed when it installs or fails
    const fileNumber = this.quarantineQueue.shift()!;
    const found = this.findLive(fileNumber);
    const record = this.quarantined.find((q) => q.fileNumber === fileNumber);
    assert(record !== undefined, 'a queued quarantine is recorded');
    if (found === undefined) return this.pumpQuarantine();
    this.quarantining = true;
    const { host } = this;
    const edit: VersionEdit = { deletedTables: [{ level: found.level, fileNumber }], nextFileNumber: host.versions.nextFileNumber };
    host.manifest.logAndApply(edit, (err) => {
      this.quarantining = false;
      if (!host.running()) return;
      if (err !== null) return host.fail(err);
      record.installed = true;
      this.excluded.delete(fileNumber);
      host.retireCorrupt(fileNumber);
      host.onInstalled();
      this.pumpQuarantine();
      this.maybeSchedule();
    });
  }

  /** Starts the next compaction if one is due and none is running. */
  maybeSchedule(): void {
    if (!this.host.running() || this.current !== null || this.retryTimer !== undefined) return;
    if (this.quarantining || this.quarantineQueue.length > 0) return this.pumpQuarantine();
    const plan = this.pick();
    if (plan === undefined) {
      this.notifyIfIdle();
      return;
    }
    const current: { plan: CompactionPlan; job: CompactionJob | null; installing: boolean } = { plan, job: null, installing: false };
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
      { ...host.outputDeps(), tableCache: host.tableCache, outputBlockBudgetBytes: outputBlockBudget(host.tableCache.blockCache) },
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
    if (this.quarantining || this.quarantineQueue.length > 0) return;
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
    if (this.current !== null) this.current.installing = true;
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
      const sink = this.current?.job?.sink;
      this.current = null;
      host.onInstalled();
      // The inputs' blocks left the cache with their files: the outputs' take their place.
      sink?.warm(host.tableCache.blockCache);
      this.pumpQuarantine();
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
      if (bad?.kind === 'table' && this.findLive(bad.number) !== undefined) {
        this.quarantine(bad.number);
      } else {
        for (const i of plan.inputs) this.excluded.add(i.table.fileNumber);
      }
      this.host.onInstalled(); // writes held for this compaction may go on
      this.pumpQuarantine();
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
