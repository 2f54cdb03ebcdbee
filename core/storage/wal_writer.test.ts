import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiskError, DiskFullError } from '../../io/disk.ts';
import { EngineClosedError } from './errors.ts';
import { ManualSyncFile } from './manual_sync_file.ts';
import { HEADER_BYTES } from './log_format.ts';
import { readWal } from './wal_reader.ts';
import { WalWriter } from './wal_writer.ts';

const rec = (n: number, fill = n & 0xff) => new Uint8Array(n).fill(fill);

/** One append and what became of it. */
interface Tracked {
  durable: boolean;
  end: number;
  calls: (Error | null)[];
  durableAtCall: number[];
}

function track(writer: WalWriter, file: ManualSyncFile, record: Uint8Array, durable: boolean): Tracked {
  const t: Tracked = { durable, end: -1, calls: [], durableAtCall: [] };
  writer.append(record, durable, (err) => {
    t.calls.push(err);
    t.durableAtCall.push(file.durableLength);
  });
  t.end = writer.bytesWritten();
  return t;
}

describe('WalWriter group commit', () => {
  it('acknowledges N concurrent durable appends with at most 2 syncs', () => {
    for (const n of [1, 2, 10, 500]) {
      const file = new ManualSyncFile();
      const writer = new WalWriter(file);
      const appends = Array.from({ length: n }, (_, i) => track(writer, file, rec(i % 300), true));
      expect(file.syncsPending()).toBe(1);
      // The first sync began after only the first append: it acknowledges that one alone.
      file.completeSync();
      expect(appends.filter((a) => a.calls.length > 0).length).toBe(1);
      expect(file.syncsPending()).toBe(n > 1 ? 1 : 0);
      if (n > 1) file.completeSync();
      expect(file.syncCalls).toBe(Math.min(n, 2));
      for (const a of appends) {
        expect(a.calls).toEqual([null]);
        expect(a.durableAtCall[0]).toBeGreaterThanOrEqual(a.end);
      }
      expect(writer.stats.durableAcks).toBe(n);
      expect(readWal(file).records.length).toBe(n);
    }
  });

  it('holds to its properties under any interleaving of appends, flushes, sync completions and sync failures', () => {
    type Op =
      | { op: 'append'; size: number; durable: boolean }
      | { op: 'flush' }
      | { op: 'complete' }
      | { op: 'fail' };
    const arbOp: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('append' as const), size: fc.integer({ min: 0, max: 70_000 }), durable: fc.boolean() }) },
      { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
      { weight: 3, arbitrary: fc.constant({ op: 'complete' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'fail' as const }) },
    );
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), fc.constantFrom(32_768, 512), (ops, blockBytes) => {
        const file = new ManualSyncFile();
        const writer = new WalWriter(file, { blockBytes });
        const tracked: Tracked[] = [];
        const records: Uint8Array[] = [];
        let syncError: DiskError | null = null;
        let okSyncs = 0;
        for (const o of ops) {
          if (o.op === 'append') {
            const record = rec(o.size, records.length & 0xff);
            const t = track(writer, file, record, o.durable);
            tracked.push(t);
            if (syncError === null) records.push(record);
            // Non-durable appends call back at once; after a failure every append is refused at once.
            if (!o.durable || syncError !== null) expect(t.calls.length).toBe(1);
            if (syncError !== null) expect(t.calls[0]).toBe(syncError);
            if (!o.durable && syncError === null) expect(t.calls[0]).toBeNull();
          } else if (o.op === 'flush') {
            const t: Tracked = { durable: true, end: writer.bytesWritten(), calls: [], durableAtCall: [] };
            writer.flush((err) => {
              t.calls.push(err);
              t.durableAtCall.push(file.durableLength);
            });
            tracked.push(t);
          } else if (file.syncsPending() > 0) {
            const coversBefore = tracked.filter((t) => t.durable && t.calls.length === 0 && t.end <= pendingCover(file));
            if (o.op === 'complete') {
              file.completeSync();
              okSyncs++;
              // Everything appended before the sync began is acknowledged by it.
              for (const t of coversBefore) expect(t.calls.length).toBe(1);
            } else {
              syncError = new DiskError('EIO on fsync');
              file.completeSync(syncError);
              // Every unacknowledged durable append fails, now.
              for (const t of tracked) if (t.durable) expect(t.calls.length).toBe(1);
              expect(writer.failed()).toBe(syncError);
            }
          }
          // Invariants after every step.
          expect(file.syncsPending()).toBeLessThanOrEqual(1);
          for (const t of tracked) {
            expect(t.calls.length).toBeLessThanOrEqual(1);
            if (t.durable && t.calls[0] === null) expect(t.durableAtCall[0]).toBeGreaterThanOrEqual(t.end);
          }
        }
        // Drain: every callback is called exactly once.
        while (file.syncsPending() > 0) {
          file.completeSync();
          okSyncs++;
        }
        for (const t of tracked) expect(t.calls.length).toBe(1);
        // Successful syncs never outnumber the groups they served.
        expect(okSyncs).toBeLessThanOrEqual(tracked.filter((t) => t.durable).length);
        // The log holds every record whose append succeeded, in order.
        const replay = readWal(file, { blockBytes });
        expect(replay.stopReason).toBe('eof');
        expect(replay.records.map((r) => r.length)).toEqual(records.map((r) => r.length));
      }),
      { numRuns: 300 },
    );
  });

  it('fails exactly the covered callbacks and those waiting on a failed sync, then refuses appends', () => {
    const file = new ManualSyncFile();
    const writer = new WalWriter(file);
    const a = track(writer, file, rec(10), true);
    file.completeSync();
    expect(a.calls).toEqual([null]);
    const b = track(writer, file, rec(20), true); // covered by sync 2
    const c = track(writer, file, rec(30), true); // waits for sync 3
    const err = new DiskError('EIO');
    file.completeSync(err);
    expect(a.calls).toEqual([null]);
    expect(b.calls).toEqual([err]);
    expect(c.calls).toEqual([err]);
    expect(file.syncsPending()).toBe(0);
    const d = track(writer, file, rec(5), false);
    expect(d.calls).toEqual([err]);
    const flushed: (Error | null)[] = [];
    writer.flush((e) => flushed.push(e));
    expect(flushed).toEqual([err]);
    expect(file.size()).toBe(a.end + 7 + 20 + 7 + 30); // nothing appended after the failure
  });

  it('fails the append that hits a full disk and keeps the log readable up to the previous record', () => {
    const file = new ManualSyncFile();
    const writer = new WalWriter(file);
    const ok = track(writer, file, rec(100), true);
    file.completeSync();
    file.capacity = file.size() + 50;
    const full = track(writer, file, rec(1000), true);
    expect(full.calls.length).toBe(1);
    expect(full.calls[0]).toBeInstanceOf(DiskFullError);
    expect(file.syncsPending()).toBe(0);
    expect(ok.calls).toEqual([null]);
    const replay = readWal(file);
    expect(replay.stopReason).toBe('eof');
    expect(replay.records.map((r) => r.length)).toEqual([100]);
    // Space freed: the writer carries on.
    file.capacity = Number.POSITIVE_INFINITY;
    const after = track(writer, file, rec(40), true);
    file.completeSync();
    expect(after.calls).toEqual([null]);
    expect(readWal(file).records.map((r) => r.length)).toEqual([100, 40]);
  });

  it('flush syncs what non-durable appends left, and is immediate when nothing is outstanding', () => {
    const file = new ManualSyncFile();
    const writer = new WalWriter(file);
    const done: (Error | null)[] = [];
    writer.flush((e) => done.push(e));
    expect(done).toEqual([null]);
    expect(file.syncCalls).toBe(0);
    track(writer, file, rec(10), false);
    writer.flush((e) => done.push(e));
    expect(done.length).toBe(1);
    expect(file.syncsPending()).toBe(1);
    // A second flush with no new bytes rides on the sync in flight.
    writer.flush((e) => done.push(e));
    file.completeSync();
    expect(done).toEqual([null, null, null]);
    expect(file.syncCalls).toBe(1);
    expect(writer.durableBytes()).toBe(writer.bytesWritten());
  });

  it('works with a file whose sync completes synchronously', () => {
    const file = new ManualSyncFile();
    file.autoSync = true;
    const writer = new WalWriter(file);
    const all = Array.from({ length: 5 }, (_, i) => track(writer, file, rec(i * 10), true));
    for (const t of all) expect(t.calls).toEqual([null]);
    expect(file.syncCalls).toBe(5);
  });

  it('lets a callback append again, and acknowledges in append order', () => {
    const file = new ManualSyncFile();
    const writer = new WalWriter(file);
    const order: number[] = [];
    writer.append(rec(1), true, () => {
      order.push(1);
      writer.append(rec(2), true, () => order.push(3));
    });
    writer.append(rec(3), true, () => order.push(2));
    file.completeSync();
    expect(order).toEqual([1]);
    // The append made inside the callback joins the one already waiting: one sync for both.
    expect(file.syncsPending()).toBe(1);
    file.completeSync();
    expect(order).toEqual([1, 2, 3]);
    expect(file.syncCalls).toBe(2);
  });

  it('groups clients that write again from their acknowledgement into one sync', () => {
    const file = new ManualSyncFile();
    const writer = new WalWriter(file);
    const clients = 8;
    const writesEach = 5;
    let acked = 0;
    const client = (left: number) => {
      if (left === 0) return;
      writer.append(rec(50), true, (err) => {
        expect(err).toBeNull();
        acked++;
        client(left - 1);
      });
    };
    for (let c = 0; c < clients; c++) client(writesEach);
    while (file.syncsPending() > 0) file.completeSync();
    expect(acked).toBe(clients * writesEach);
    // The first sync covers only the first append; each later one, every client's next write.
    expect(file.syncCalls).toBe(writesEach + 1);
  });

  it('with timers, starts each sync a turn later so clients resuming on that turn join it', () => {
    // Timers whose 0 ms callbacks run when the test says (one event-loop turn).
    const due: Array<() => void> = [];
    const timers = {
      setTimer: (_ms: number, fn: () => void) => due.push(fn),
      cancelTimer: (id: number) => {
        due[id - 1] = () => {};
      },
    };
    const turn = () => {
      for (const fn of due.splice(0)) fn();
    };
    const file = new ManualSyncFile();
    const writer = new WalWriter(file, { timers });
    const clients = 8;
    const writesEach = 5;
    let acked = 0;
    // Each client writes again on the turn after its acknowledgement (a promise continuation, a request).
    const client = (left: number) => {
      if (left === 0) return;
      writer.append(rec(50), true, (err) => {
        expect(err).toBeNull();
        acked++;
        due.push(() => client(left - 1));
      });
    };
    for (let c = 0; c < clients; c++) client(writesEach);
    expect(file.syncsPending()).toBe(0); // not yet: the sync waits for the turn
    for (let i = 0; i < 100 && acked < clients * writesEach; i++) {
      turn();
      while (file.syncsPending() > 0) file.completeSync();
    }
    expect(acked).toBe(clients * writesEach);
    // Every sync carries every client's next write.
    expect(file.syncCalls).toBe(writesEach);
    expect(writer.stats.durableAcks).toBe(clients * writesEach);
  });

  it('on close, fails waiting callbacks, lets the sync in flight report, then closes the file', () => {
    const file = new ManualSyncFile();
    const writer = new WalWriter(file);
    const a = track(writer, file, rec(1), true);
    const b = track(writer, file, rec(2), true);
    writer.close();
    expect(b.calls.length).toBe(1);
    expect(b.calls[0]).toBeInstanceOf(EngineClosedError);
    expect(file.closed).toBe(false);
    file.completeSync();
    expect(a.calls).toEqual([null]);
    expect(file.closed).toBe(true);
    const c = track(writer, file, rec(3), true);
    expect(c.calls[0]).toBeInstanceOf(EngineClosedError);
  });

  it('continues the block structure of an existing log', () => {
    const first = new ManualSyncFile('a.log');
    const w1 = new WalWriter(first, { blockBytes: 64 });
    for (let i = 0; i < 7; i++) track(w1, first, rec(i * 9), false);
    const reopened = new ManualSyncFile('a.log', first.contents());
    const w2 = new WalWriter(reopened, { blockBytes: 64 });
    expect(w2.bytesWritten()).toBe(first.size());
    // What was in the file is not assumed durable: a flush syncs it.
    expect(w2.durableBytes()).toBe(0);
    const flushed: (Error | null)[] = [];
    w2.flush((e) => flushed.push(e));
    expect(reopened.syncsPending()).toBe(1);
    reopened.completeSync();
    expect(flushed).toEqual([null]);
    expect(w2.durableBytes()).toBe(first.size());
    for (let i = 7; i < 12; i++) track(w2, reopened, rec(i * 9), false);
    const replay = readWal(reopened, { blockBytes: 64 });
    expect(replay.stopReason).toBe('eof');
    expect(replay.records.map((r) => r.length)).toEqual(Array.from({ length: 12 }, (_, i) => i * 9));
  });
});

describe('WalWriter.appendFramed', () => {
  it('writes the bytes append() writes, for any record sizes and block size, with the header in place when the record fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 200 }), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 30 }), (blockBytes, sizes) => {
        const a = new ManualSyncFile('a.log');
        const b = new ManualSyncFile('b.log');
        const wa = new WalWriter(a, { blockBytes });
        const wb = new WalWriter(b, { blockBytes });
        for (const [i, n] of sizes.entries()) {
          const record = rec(n, i + 1);
          wa.append(record, false, () => {});
          const framed = new Uint8Array(HEADER_BYTES + n);
          framed.set(record, HEADER_BYTES);
          expect(wb.appendFramed(framed, false, undefined)).toBeNull();
          // The payload is never moved: views into it stay the record's bytes.
          expect(Array.from(framed.subarray(HEADER_BYTES))).toEqual(Array.from(record));
        }
        expect(Array.from(b.contents())).toEqual(Array.from(a.contents()));
        expect(wb.bytesWritten()).toBe(wa.bytesWritten());
        const replay = readWal(b, { blockBytes });
        expect(replay.records.map((r) => r.length)).toEqual(sizes);
      }),
    );
  });

  it('returns a refusal instead of calling back, and a durable append waits for a sync', () => {
    const file = new ManualSyncFile('a.log');
    const w = new WalWriter(file);
    const calls: (Error | null)[] = [];
    expect(w.appendFramed(new Uint8Array(HEADER_BYTES + 3), true, (e) => calls.push(e))).toBeNull();
    expect(calls).toEqual([]);
    expect(file.syncsPending()).toBe(1);
    file.completeSync();
    expect(calls).toEqual([null]);
    w.close();
    expect(w.appendFramed(new Uint8Array(HEADER_BYTES), false, undefined)).toBeInstanceOf(EngineClosedError);
  });
});

/** The log length the oldest sync in flight covers: the file size when it was issued. */
function pendingCover(file: ManualSyncFile): number {
  return (file as unknown as { pending: { length: number }[] }).pending[0]!.length;
}
