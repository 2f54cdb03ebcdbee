// Compaction: merges a plan's input tables (compaction_plan.ts) into new
// tables at the output level, incrementally (incremental_merge.ts), dropping
// shadowed versions and, where compaction_merge.ts allows, tombstones and
// expired values. Inputs are only read: they stay live and readable until
// the engine installs the result. A corrupt input fails the job with a
// CorruptionError naming its file; the outputs are removed and nothing is lost.

import { CompactionMerge } from './compaction_merge.ts';
import type { CompactionPlan } from './compaction_plan.ts';
import type { TableOutputDeps } from './flush_job.ts';
import { IncrementalMerge, type JobCallback, type JobEnv } from './incremental_merge.ts';
import { MergingIterator } from './merging_iterator.ts';
import type { TableCache } from './table_cache.ts';
import { TableSink } from './table_sink.ts';
import { tableContainsKey } from './version.ts';

export interface CompactionJobDeps extends TableOutputDeps {
  tableCache: TableCache;
  /** Bytes of output data blocks to keep parsed for the block cache (table_sink.ts); 0 or absent: none. */
  outputBlockBudgetBytes?: number;
}

export interface CompactionRulesInput {
  snapshotSeq: number;
  nowMs: number;
  graceMs: number;
}

export class CompactionJob {
  readonly sink: TableSink;
  private readonly job: IncrementalMerge;

  constructor(env: JobEnv, deps: CompactionJobDeps, readonly plan: CompactionPlan, rules: CompactionRulesInput, cb: JobCallback) {
    this.sink = new TableSink(deps.disk, deps.newFileNumber, deps.writerOptions, plan.targetFileBytes, deps.outputBlockBudgetBytes ?? 0);
    const { tableCache } = deps;
    const olderVersionMayExist = (key: Uint8Array): boolean => {
      for (const t of plan.olderTables) {
        if (!tableContainsKey(t, key)) continue;
        try {
          if (tableCache.get(t).mayContain(key)) return true;
        } catch {
          return true; // an unreadable table may hold anything
        }
      }
      return false;
    };
    this.job = new IncrementalMerge(
      env,
      () => {
        const source = new MergingIterator(plan.inputs.map((i) => tableCache.get(i.table).iterator({ fillCache: false, reuseEntry: true })));
        source.seekToFirst();
        return new CompactionMerge(source, { ...rules, olderVersionMayExist });
      },
      this.sink,
      cb,
    );
  }

  start(): void {
    this.job.start();
  }

  cancel(): void {
    this.job.cancel();
  }

  get inputBytes(): number {
    return this.job.inputBytes;
  }

  get counts() {
    return this.job.counts;
  }
}
