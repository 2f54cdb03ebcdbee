// Flush and compaction jobs on their own, on a simulated disk: what they
// write, that they advance in bounded, rate-limited steps, and how they fail.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator, type SimNode } from '../../sim/simulator.ts';
import { BlockCache } from './block_cache.ts';
import { CompactionJob } from './compaction_job.ts';
import type { CompactionPlan } from './compaction_plan.ts';
import { compareEntries, EntryKind, type Entry } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { FlushJob } from './flush_job.ts';
import type { JobEnv } from './incremental_merge.ts';
import { tableFileName } from './manifest.ts';
import { Memtable } from './memtable.ts';
import { RateLimiter } from './rate_limiter.ts';
import { SstableReader } from './sstable_reader.ts';
import type { SstableWriterOptions } from './sstable_writer.ts';
import { TableCache } from './table_cache.ts';
import type { TableMeta } from './version_edit.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function world(seed: string) {
  const sim = new Simulator({ seed });
  const node = sim.addNode('n1');
  let next = 100;
  const writerOptions: Partial<SstableWriterOptions> = { blockBytes: 512 };
  const deps = { disk: node.disk, newFileNumber: () => next++, writerOptions };
  return { sim, node, deps };
}

function jobEnv(node: SimNode, stepBytes: number, rate = 0): JobEnv {
  return { timers: node.env.timers, limiter: new RateLimiter(node.clock, rate, Math.max(1, rate / 10)), stepBytes, buggify: () => false };
}

function readAll(node: SimNode, t: TableMeta): Entry[] {
  const reader = SstableReader.open(node.disk.open(tableFileName(t.fileNumber)));
  const out: Entry[] = [];
  const it = reader.iterator();
  for (it.seekToFirst(); it.valid(); it.next()) out.push({ ...it.entry(), key: it.entry().key.slice(), value: it.entry().value.slice() });
  reader.close();
  return out;
}

function run<T>(sim: Simulator, start: (cb: (err: Error | null, v?: T) => void) => void): { err: Error | null; value?: T } {
  let result: { err: Error | null; value?: T } | undefined;
  start((err, value) => {
    result = { err, ...(value !== undefined ? { value } : {}) };
  });
  sim.runUntil(() => result !== undefined, { maxEvents: 1_000_000 });
  expect(result).toBeDefined();
  return result!;
}

describe('flush job', () => {
  it('writes the memtable as one table, newest version per key, tombstones kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ k: fc.nat(30), del: fc.boolean(), len: fc.nat(200) }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 64, max: 4096 }),
        (writes, stepBytes) => {
          const { sim, node, deps } = world('flush');
          const mem = new Memtable(node.rng);
          const newest = new Map<string, Entry>();
          writes.forEach((w, i) => {
            const key = enc(`k${w.k}`);
            const e: Entry = w.del
              ? { key, seq: i + 1, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: 5 }
              : { key, seq: i + 1, kind: EntryKind.Put, value: new Uint8Array(w.len).fill(i & 0xff), timeMs: 0 };
            mem.add(e);
            newest.set(`k${w.k}`, e);
          });
          mem.freeze();
          let job!: FlushJob;
          const { err, value } = run<TableMeta[]>(sim, (cb) => {
            job = new FlushJob(jobEnv(node, stepBytes), deps, mem, writes.length, cb);
            job.start();
          });
          expect(err).toBeNull();
          expect(value).toHaveLength(1);
          const got = readAll(node, value![0]!);
          expect(got).toEqual([...newest.values()].sort(compareEntries));
          // Bounded steps: no step consumed much more than stepBytes of input.
          const inputBytes = writes.reduce((s, w) => s + 3 + (w.del ? 0 : w.len) + 16, 0);
          expect(job.steps).toBeGreaterThanOrEqual(Math.floor(inputBytes / (stepBytes + 16 + 203)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('takes steps `scale` times larger when its env scales them, and the same table either way', () => {
    const stepsAt = (scale: number) => {
      const { sim, node, deps } = world('scaled');
      const mem = new Memtable(node.rng);
      for (let i = 0; i < 2000; i++) mem.add({ key: enc(`key${i}`), seq: i + 1, kind: EntryKind.Put, value: new Uint8Array(100).fill(i), timeMs: 0 });
      mem.freeze();
      let job!: FlushJob;
      const { err, value } = run<TableMeta[]>(sim, (cb) => {
        job = new FlushJob({ ...jobEnv(node, 4096), scale: () => scale }, deps, mem, 2000, cb);
        job.start();
      });
      expect(err).toBeNull();
      return { steps: job.steps, entries: readAll(node, value![0]!).length };
    };
    const one = stepsAt(1);
    const four = stepsAt(4);
    expect(one.entries).toBe(2000);
    expect(four.entries).toBe(2000);
    // ~240 KB of input: about 59 steps of 4 KiB, about 15 of 16 KiB.
    expect(one.steps).toBeGreaterThan(50);
    expect(four.steps).toBeLessThanOrEqual(Math.ceil(one.steps / 4) + 1);
    expect(() => stepsAt(0.5)).toThrow(/scale/);
  });

  it('paces its steps by the rate limit', () => {
    const { sim, node, deps } = world('paced');
    const mem = new Memtable(node.rng);
    for (let i = 0; i < 2000; i++) mem.add({ key: enc(`key${i}`), seq: i + 1, kind: EntryKind.Put, value: new Uint8Array(100).fill(i), timeMs: 0 });
    mem.freeze();
    const rate = 100_000; // bytes per second
    const started = sim.nowMs();
    const { err, value } = run<TableMeta[]>(sim, (cb) => new FlushJob(jobEnv(node, 4096, rate), { ...deps, writerOptions: { compression: false } }, mem, 2000, cb).start());
    expect(err).toBeNull();
    const elapsedSec = (sim.nowMs() - started) / 1000;
    // Every byte but the first burst, the last step and the metadata written at the end waits its turn.
    const bytes = value![0]!.fileBytes;
    expect(bytes).toBeGreaterThan(200_000);
    expect(elapsedSec).toBeGreaterThanOrEqual((bytes - 10_000 - 4096 - 16_000) / rate);
    expect(elapsedSec).toBeLessThanOrEqual(bytes / rate + 0.5);
  });

  it('ends a step when its time is up as well as when its bytes are', () => {
    const steps = (stepMs: number | undefined, msPerRead: number) => {
      const { sim, node, deps } = world('timed');
      const mem = new Memtable(node.rng);
      for (let i = 0; i < 2000; i++) mem.add({ key: enc(`key${i}`), seq: i + 1, kind: EntryKind.Put, value: new Uint8Array(100).fill(i), timeMs: 0 });
      mem.freeze();
      // A clock that moves msPerRead each time it is read: a step sees time pass as it works.
      let now = 0;
      const clock = { monotonicMs: () => (now += msPerRead), wallMs: () => now };
      const env: JobEnv = { ...jobEnv(node, 64 * 1024), clock, ...(stepMs !== undefined ? { stepMs } : {}) };
      const job = new FlushJob(env, deps, mem, 2000, () => {});
      job.start();
      sim.run({ maxEvents: 100_000 });
      return job.steps;
    };
    // 2000 entries of ~120 bytes: 4 steps by bytes alone; 32 entries per clock read, 2 ms per read.
    const byBytes = steps(undefined, 2);
    expect(byBytes).toBeLessThanOrEqual(5);
    const byTime = steps(1, 2);
    expect(byTime).toBeGreaterThanOrEqual(2000 / 32 - 1);
    // A clock that stands still leaves the byte bound in charge.
    expect(steps(1, 0)).toBe(byBytes);
  });

  it('cancelled, it removes what it wrote', () => {
    const { sim, node, deps } = world('cancel');
    const mem = new Memtable(node.rng);
    for (let i = 0; i < 500; i++) mem.add({ key: enc(`key${i}`), seq: i + 1, kind: EntryKind.Put, value: new Uint8Array(100), timeMs: 0 });
    mem.freeze();
    let called = false;
    const job = new FlushJob(jobEnv(node, 1000), deps, mem, 500, () => {
      called = true;
    });
    job.start();
    sim.run({ maxEvents: 5 });
    expect(job.sink.fileNumbers.length).toBe(1);
    job.cancel();
    sim.run({ maxEvents: 1000 });
    expect(called).toBe(false);
    expect(node.disk.list()).not.toContain(tableFileName(job.sink.fileNumbers[0]!));
    expect(node.disk.openHandleCount()).toBe(0);
  });
});

describe('compaction job', () => {
  /** Writes `entries` as one table through a flush job; returns its metadata. */
  function table(sim: Simulator, node: SimNode, deps: ReturnType<typeof world>['deps'], entries: Entry[]): TableMeta {
    const mem = new Memtable(node.rng);
    for (const e of entries) mem.add(e);
    mem.freeze();
    const { value } = run<TableMeta[]>(sim, (cb) => new FlushJob(jobEnv(node, 1 << 20), deps, mem, 1e9, cb).start());
    return value![0]!;
  }

  const put = (k: string, seq: number, v: string): Entry => ({ key: enc(k), seq, kind: EntryKind.Put, value: enc(v), timeMs: 0 });
  const del = (k: string, seq: number): Entry => ({ key: enc(k), seq, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: 1 });

  function plan(inputs: TableMeta[], older: TableMeta[], targetFileBytes = Infinity): CompactionPlan {
    return { reason: 'test', inputs: inputs.map((table) => ({ level: 1, table })), outputLevel: 2, trivialMove: false, targetFileBytes, olderTables: older };
  }

  it('merges inputs, keeps a tombstone an older table may need, purges one nothing needs', () => {
    const { sim, node, deps } = world('compact');
    const a = table(sim, node, deps, [put('a', 1, 'a1'), put('b', 2, 'b1'), put('c', 3, 'c1')]);
    const b = table(sim, node, deps, [put('a', 4, 'a2'), del('b', 5), del('x', 6)]);
    const older = table(sim, node, deps, [put('x', 0 + 1, 'old')].map((e) => ({ ...e, seq: 1 })));
    const cache = new TableCache(node.disk, new BlockCache(1 << 20));
    const { err, value } = run<TableMeta[]>(sim, (cb) =>
      new CompactionJob(jobEnv(node, 100), { ...deps, tableCache: cache }, plan([a, b], [older]), { snapshotSeq: 100, nowMs: 10, graceMs: 0 }, cb).start(),
    );
    expect(err).toBeNull();
    const got = value!.flatMap((t) => readAll(node, t)).map((e) => `${new TextDecoder().decode(e.key)}@${e.seq}`);
    // b's tombstone and b1 go (nothing older holds b); x's tombstone stays (the older table holds x).
    expect(got).toEqual(['a@4', 'c@3', 'x@6']);
  });

  it('cuts outputs at the target size, between keys', () => {
    const { sim, node, deps } = world('cut');
    const entries: Entry[] = [];
    for (let i = 0; i < 300; i++) entries.push(put(`key${String(i).padStart(4, '0')}`, i + 1, 'v'.repeat(50)));
    const t = table(sim, node, deps, entries);
    const cache = new TableCache(node.disk, new BlockCache(1 << 20));
    const { value } = run<TableMeta[]>(sim, (cb) =>
      new CompactionJob(jobEnv(node, 500), { ...deps, tableCache: cache, writerOptions: { blockBytes: 512, compression: false } }, plan([t], [], 4096), { snapshotSeq: 1e6, nowMs: 0, graceMs: 0 }, cb).start(),
    );
    expect(value!.length).toBeGreaterThan(3);
    for (let i = 1; i < value!.length; i++) expect(Buffer.compare(value![i - 1]!.largestKey, value![i]!.smallestKey)).toBeLessThan(0);
    expect(value!.reduce((s, x) => s + x.entryCount, 0)).toBe(300);
  });

  it('with a block budget, keeps its output data blocks parsed, identical to what a read decodes, up to the budget', () => {
    for (const budget of [1 << 22, 3000]) {
      const { sim, node, deps } = world('warm');
      const entries: Entry[] = [];
      for (let i = 0; i < 300; i++) entries.push(put(`key${String(i).padStart(4, '0')}`, i + 1, `v${i}`.repeat(20)));
      const t = table(sim, node, deps, entries);
      const cache = new TableCache(node.disk, new BlockCache(1 << 22));
      let job!: CompactionJob;
      const { value } = run<TableMeta[]>(sim, (cb) => {
        job = new CompactionJob(jobEnv(node, 500), { ...deps, tableCache: cache, outputBlockBudgetBytes: budget }, plan([t], [], 4096), { snapshotSeq: 1e6, nowMs: 0, graceMs: 0 }, cb);
        job.start();
      });
      expect(value!.length).toBeGreaterThan(1);
      const kept = new Map(job.sink.blocks.map((b) => [`${b.fileNumber}@${b.offset}`, b.block]));
      let dataBlocks = 0;
      let keptBytes = 0;
      for (const out of value!) {
        const reader = SstableReader.open(node.disk.open(tableFileName(out.fileNumber)));
        for (let i = 0; i < reader.dataBlockCount(); i++) {
          dataBlocks++;
          const block = kept.get(`${out.fileNumber}@${reader.dataBlockHandle(i).offset}`);
          if (block === undefined) continue;
          keptBytes += block.data.length;
          expect(Buffer.from(block.data)).toEqual(Buffer.from(reader.readBlock(i, false).data));
        }
        reader.close();
      }
      expect(keptBytes).toBeLessThanOrEqual(budget);
      if (budget > 1 << 20) expect(kept.size).toBe(dataBlocks);
      else expect(kept.size).toBeGreaterThan(0), expect(kept.size).toBeLessThan(dataBlocks);
      expect(value!.flatMap((o) => readAll(node, o)).length).toBe(300);
    }
  });

  it('stops at a corrupt input, naming it, and removes its outputs', () => {
    const { sim, node, deps } = world('corrupt');
    const entries: Entry[] = [];
    for (let i = 0; i < 300; i++) entries.push(put(`key${String(i).padStart(4, '0')}`, i + 1, 'v'.repeat(50)));
    const t = table(sim, node, { ...deps, writerOptions: { blockBytes: 512, compression: false } }, entries);
    node.disk.flipBit(tableFileName(t.fileNumber), 3000, 1);
    const cache = new TableCache(node.disk, new BlockCache(1 << 20));
    const before = node.disk.list();
    const { err } = run<TableMeta[]>(sim, (cb) =>
      new CompactionJob(jobEnv(node, 500), { ...deps, tableCache: cache }, plan([t], []), { snapshotSeq: 1e6, nowMs: 0, graceMs: 0 }, cb).start(),
    );
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).file).toBe(tableFileName(t.fileNumber));
    expect(node.disk.list()).toEqual(before);
  });
});
