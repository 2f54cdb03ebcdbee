// Opening an engine's directory: what survives a crash at any point, and how
// the engine gets back to a state where every acknowledged write is present.
//
// Steps (file names in manifest.ts):
// 1. CURRENT -> manifest -> VersionSet: the live tables per level, the log
//    number, the next file number and lastSeq. No CURRENT means the engine was
//    never fully created (nothing was acknowledged): every engine file left
//    over is removed and the engine starts empty; but tables or a non-empty
//    log without CURRENT mean CURRENT was lost, and open refuses with
//    CorruptionError rather than discard data. A table the manifest names
//    must exist (it was synced, dir-synced, then named), else CorruptionError.
// 2. Every WAL numbered >= the log number is replayed, in number order, into
//    one memtable. Batches carry their seqs, and the first must be
//    lastSeq + 1, each next one continue where the previous ended. A torn or
//    damaged tail ends a log's replay. A gap in the seqs (an older log lost
//    its unsynced tail while a newer log kept records) ends the whole replay:
//    the engine acknowledges writes in seq order, so nothing after a gap was
//    acknowledged, and dropping it keeps the state a prefix of the history.
//    Seqs seen past a gap still raise lastSeq, so they are not reused.
// 3. If the memtable holds anything it is written to a level-0 table (synced,
//    dir-synced).
// 4. A new WAL is created, and a new manifest whose snapshot names the tables
//    (with the recovered one), the new log number and lastSeq; CURRENT is
//    switched to it and the directory synced. Only now may old logs go.
// 5. The engine then deletes everything the new state does not reference:
//    older logs and manifests, tables of unfinished flushes or compactions,
//    CURRENT.tmp.
// A crash during steps 3-4 leaves the old CURRENT in force and the old logs
// in place, so the next open starts over from step 1.

import type { StorageEnv } from '../../io/env.ts';
import type { Disk, File } from '../../io/disk.ts';
import { CorruptionError } from './errors.ts';
import type { EngineOptions, RecoveryStats } from './engine_options.ts';
import { FlushJob } from './flush_job.ts';
import { CURRENT_FILE, ManifestLog, parseFileName, readManifest, tableFileName, walFileName } from './manifest.ts';
import { Memtable } from './memtable.ts';
import { RateLimiter } from './rate_limiter.ts';
import { readWal } from './wal_reader.ts';
import { WalWriter } from './wal_writer.ts';
import { decodeWriteBatch } from './write_batch.ts';
import { VersionSet } from './version_set.ts';

export interface RecoveredState {
  versions: VersionSet;
  manifest: ManifestLog;
  wal: WalWriter;
  walNumber: number;
  stats: RecoveryStats;
}

export function recoverStorage(env: StorageEnv, options: EngineOptions, cb: (err: Error | null, state?: RecoveredState) => void): void {
  const { disk } = env;
  const stats: RecoveryStats = { walFiles: 0, walRecords: 0, walBytesDropped: 0, walRecordsAfterGap: 0, walLogsDamaged: 0, entriesRecovered: 0 };
  let versions: VersionSet;
  const memtable = new Memtable(env.rng);
  try {
    const recovered = readManifest(disk);
    versions = recovered?.versions ?? new VersionSet();
    const names = disk.list();
    if (recovered === undefined) {
      // Only an unfinished creation leaves files without CURRENT, and it
      // leaves no data: tables or written logs mean CURRENT was lost.
      for (const name of names) {
        const p = parseFileName(name);
        if (p?.kind === 'table' || (p?.kind === 'wal' && fileSize(disk, name) > 0)) {
          throw new CorruptionError(`${CURRENT_FILE} is missing but ${name} holds data`);
        }
      }
      for (const name of names) {
        const p = parseFileName(name);
        if (p !== undefined && p.kind !== 'current') disk.remove(name);
      }
    } else {
      for (const name of names) {
        const p = parseFileName(name);
        if (p !== undefined && p.number > 0) versions.markFileNumberUsed(p.number);
      }
      for (const { table } of versions.current.allTables()) {
        if (!disk.exists(tableFileName(table.fileNumber))) throw new CorruptionError('table named by the manifest is missing', tableFileName(table.fileNumber));
      }
      replayLogs(disk.list(), versions, memtable, stats, (name) => disk.open(name));
    }
  } catch (err) {
    return cb(err as Error);
  }

  const finish = (): void => {
    let wal: WalWriter;
    let walNumber: number;
    try {
      walNumber = versions.newFileNumber();
      wal = new WalWriter(disk.create(walFileName(walNumber)), { timers: env.timers });
      versions.apply({ logNumber: walNumber });
    } catch (err) {
      return cb(err as Error);
    }
    // The snapshot in the new manifest makes the recovered table, log number
    // and lastSeq durable at once; its CURRENT switch dir-syncs the new log.
    ManifestLog.create(disk, versions, options.maxManifestBytes, (err, manifest) => {
      if (err !== null) {
        wal.close();
        return cb(err);
      }
      cb(null, { versions, manifest: manifest!, wal, walNumber, stats });
    });
  };

  if (memtable.entryCount() === 0) return finish();
  memtable.freeze();
  stats.entriesRecovered = memtable.entryCount();
  const job = new FlushJob(
    { timers: env.timers, limiter: new RateLimiter(env.clock, 0), stepBytes: options.compactionStepBytes, buggify: env.buggify },
    {
      disk,
      newFileNumber: () => versions.newFileNumber(),
      writerOptions: { blockBytes: options.blockBytes, bloomBitsPerKey: options.bloomBitsPerKey, compression: options.compression },
    },
    memtable,
    versions.lastSeq,
    (err, tables) => {
      if (err !== null) return cb(err);
      try {
        versions.apply({ addedTables: tables!.map((table) => ({ level: 0, table })) });
      } catch (applyErr) {
        return cb(applyErr as Error);
      }
      finish();
    },
  );
  job.start();
}

function fileSize(disk: Disk, name: string): number {
  const file = disk.open(name);
  try {
    return file.size();
  } finally {
    file.close();
  }
}

/** Step 2: replays the logs at or above the log number into `memtable`; raises versions.lastSeq. */
function replayLogs(names: string[], versions: VersionSet, memtable: Memtable, stats: RecoveryStats, open: (name: string) => File): void {
  const logs = names
    .map((name) => ({ name, p: parseFileName(name) }))
    .filter((l) => l.p?.kind === 'wal' && l.p.number >= versions.logNumber)
    .sort((a, b) => a.p!.number - b.p!.number);
  let expected = versions.lastSeq + 1;
  let maxSeen = versions.lastSeq;
  let gap = false;
  for (const log of logs) {
    const file = open(log.name);
    let replay;
    try {
      replay = readWal(file);
    } finally {
      file.close();
    }
    stats.walFiles++;
    stats.walBytesDropped += replay.droppedBytes;
    if (replay.stopReason === 'corrupt') stats.walLogsDamaged++;
    for (const record of replay.records) {
      let batch;
      try {
        batch = decodeWriteBatch(record);
      } catch {
        gap = true; // a checksummed record that does not parse: treat it as the end
        continue;
      }
      if (batch.length === 0) continue;
      const first = batch[0]!.seq;
      const last = batch[batch.length - 1]!.seq;
      if (last > maxSeen) maxSeen = last;
      if (gap || first > expected) {
        gap = true;
        stats.walRecordsAfterGap++;
        continue;
      }
      if (first < expected) throw new CorruptionError(`batch at seq ${first} overlaps what is already recovered (next seq ${expected})`, log.name);
      for (const entry of batch) memtable.add(entry);
      stats.walRecords++;
      expected = last + 1;
    }
  }
  versions.apply({ lastSeq: maxSeen });
}
