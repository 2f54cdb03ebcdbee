// Flush: a frozen memtable becomes one level-0 table, incrementally
// (incremental_merge.ts). The memtable stays readable until the engine
// installs the table; shadowed versions are dropped on the way, tombstones
// never (older versions may live in any table).
//
// With a block budget the sink keeps the data blocks it writes, parsed
// (table_sink.ts), for the engine to put in the block cache when the table is
// installed: the keys just flushed are the most recently written, and without
// this every first read of each of their blocks would miss.

import type { Disk } from '../../io/disk.ts';
import { CompactionMerge, keepTombstones } from './compaction_merge.ts';
import { IncrementalMerge, type JobCallback, type JobEnv } from './incremental_merge.ts';
import type { Memtable } from './memtable.ts';
import type { SstableWriterOptions } from './sstable_writer.ts';
import { TableSink } from './table_sink.ts';

export interface TableOutputDeps {
  disk: Disk;
  newFileNumber: () => number;
  writerOptions: Partial<SstableWriterOptions>;
}

export class FlushJob {
  readonly sink: TableSink;
  private readonly job: IncrementalMerge;

  constructor(env: JobEnv, deps: TableOutputDeps, memtable: Memtable, snapshotSeq: number, cb: JobCallback, blockBudgetBytes = 0) {
    this.sink = new TableSink(deps.disk, deps.newFileNumber, deps.writerOptions, Infinity, blockBudgetBytes);
    this.job = new IncrementalMerge(
      env,
      () => {
        const it = memtable.iterator();
        it.seekToFirst();
        return new CompactionMerge(it, keepTombstones(snapshotSeq));
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

  get steps(): number {
    return this.job.steps;
  }
}
