import { describe, expect, it } from 'vitest';
import { DiskFullError } from '../../io/disk.ts';
import { Simulator, type SimNode } from '../../sim/simulator.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { CorruptionError, EngineClosedError, InvalidRequestError } from './errors.ts';
import { parseFileName } from './manifest.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const key = (i: number) => enc(`key${String(i).padStart(6, '0')}`);

/** Runs the simulator until `start`'s callback has been called; returns its result. */
function wait<T = void>(sim: Simulator, start: (cb: (err: Error | null, value?: T) => void) => void): T {
  let result: { err: Error | null; value?: T } | undefined;
  start((err, value) => {
    result = { err, value: value as T };
  });
  sim.runUntil(() => result !== undefined, { maxEvents: 5_000_000 });
  if (result === undefined) throw new Error('callback never called');
  if (result.err !== null) throw result.err;
  return result.value as T;
}

function openEngine(sim: Simulator, node: SimNode, options: Partial<EngineOptions>): Engine {
  return wait<Engine>(sim, (cb) => Engine.open(node.env, options, cb));
}

const small: Partial<EngineOptions> = {
  memtableBytes: 16 * 1024,
  blockBytes: 1024,
  l1TargetBytes: 64 * 1024,
  targetFileBytes: 16 * 1024,
  compactionStepBytes: 8 * 1024,
  compactionBytesPerSec: 0,
};

function setup(seed: string, options: Partial<EngineOptions> = small) {
  const sim = new Simulator({ seed });
  const node = sim.addNode('n1');
  const engine = openEngine(sim, node, options);
  return { sim, node, engine };
}

describe('engine basics', () => {
  it('a scan with fillCache false leaves the block cache as it found it; a default scan fills it', () => {
    const { sim, node, engine: writer } = setup('fill-cache');
    for (let i = 0; i < 400; i++) wait(sim, (cb) => writer.put(key(i), enc(`value-${i}`.padEnd(60, 'z')), undefined, cb));
    wait(sim, (cb) => writer.flush(cb));
    wait(sim, (cb) => writer.compactAll(cb));
    // Reopened, so the cache starts empty (flushes and compactions leave their output blocks in it).
    wait(sim, (cb) => writer.close(cb));
    const engine = openEngine(sim, node, small);
    const misses = () => engine.stats().blockCache.misses;
    const walk = (fillCache?: boolean) => engine.scan(fillCache === undefined ? {} : { fillCache }).length;
    const m0 = misses();
    expect(walk(false)).toBe(400);
    const m1 = misses();
    expect(m1).toBeGreaterThan(m0); // read from the tables
    expect(walk(false)).toBe(400);
    expect(misses() - m1).toBe(m1 - m0); // nothing was kept: the same blocks missed again
    const m2 = misses();
    expect(walk()).toBe(400);
    const m3 = misses();
    expect(walk()).toBe(400);
    expect(misses()).toBe(m3); // kept by the first default walk
    expect(m3 - m2).toBe(m1 - m0);
  });

  it('a flush leaves the blocks it wrote in the block cache, within a quarter of it', () => {
    const run = (blockCacheBytes: number) => {
      const { sim, engine } = setup(`flush-warm-${blockCacheBytes}`, { ...small, memtableBytes: 1 << 20, blockCacheBytes });
      for (let i = 0; i < 400; i++) wait(sim, (cb) => engine.put(key(i), enc(`value-${i}`.padEnd(60, 'z')), undefined, cb));
      wait(sim, (cb) => engine.flush(cb));
      expect(engine.stats().tablesPerLevel[0]).toBe(1);
      for (let i = 0; i < 400; i++) expect(dec(engine.get(key(i)))).toBe(`value-${i}`.padEnd(60, 'z'));
      return engine.stats().blockCache;
    };
    const warm = run(1 << 20); // budget 256 KiB: the whole table (about 30 KiB)
    expect(warm.misses).toBe(0);
    expect(warm.hits).toBeGreaterThan(0);
    const tight = run(32 * 1024); // budget 8 KiB: a part of it
    expect(tight.misses).toBeGreaterThan(0);
    expect(tight.hits).toBeGreaterThan(0);
  });

  it('getView hands out views that keep their bytes through later writes, memtable growth, flush and compaction', () => {
    const { sim, engine } = setup('views');
    const views = new Map<number, Uint8Array>();
    const valueOf = (i: number, round: number) => enc(`value-${i}-${round}-`.padEnd(40 + (i % 7) * 30, 'x'));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 300; i++) {
        wait(sim, (cb) => engine.put(key(i), valueOf(i, round), undefined, cb));
        if (i % 37 === 0) views.set(round * 1000 + i, engine.getView(key(i))!);
      }
    }
    wait(sim, (cb) => engine.flush(cb));
    wait(sim, (cb) => engine.compactAll(cb));
    // Read from tables now: views of decoded blocks.
    for (let i = 0; i < 300; i += 37) views.set(9000 + i, engine.getView(key(i))!);
    for (let i = 0; i < 300; i++) wait(sim, (cb) => engine.put(key(i), valueOf(i, 9), undefined, cb));
    wait(sim, (cb) => engine.compactAll(cb));
    for (const [tag, view] of views) {
      const i = tag % 1000;
      const round = tag >= 9000 ? 2 : Math.floor(tag / 1000);
      expect(dec(view), `tag ${tag}`).toBe(dec(valueOf(i, round)));
    }
    expect(dec(engine.getView(key(5)))).toBe(dec(engine.get(key(5))));
    expect(engine.getView(enc('missing'))).toBeUndefined();
  });

  it('puts, gets, deletes and scans, acknowledging after the WAL sync', () => {
    const { sim, engine } = setup('basics');
    let acked = false;
    engine.put(enc('a'), enc('1'), undefined, (err) => {
      expect(err).toBeNull();
      acked = true;
    });
    // Not visible before its sync completes.
    expect(engine.get(enc('a'))).toBeUndefined();
    sim.runUntil(() => acked);
    expect(dec(engine.get(enc('a')))).toBe('1');
    wait(sim, (cb) => engine.put(enc('b'), enc('2'), undefined, cb));
    wait(sim, (cb) => engine.put(enc('c'), enc('3'), undefined, cb));
    wait(sim, (cb) => engine.delete(enc('b'), cb));
    expect(engine.get(enc('b'))).toBeUndefined();
    expect(engine.scan().map((kv) => [dec(kv.key), dec(kv.value)])).toEqual([['a', '1'], ['c', '3']]);
    expect(engine.scan({ start: enc('b') }).map((kv) => dec(kv.key))).toEqual(['c']);
    expect(engine.scan({ end: enc('c') }).map((kv) => dec(kv.key))).toEqual(['a']);
    expect(engine.scan({ limit: 1 }).map((kv) => dec(kv.key))).toEqual(['a']);
    wait(sim, (cb) => engine.write([{ kind: 'put', key: enc('d'), value: enc('4') }, { kind: 'delete', key: enc('a') }], cb));
    expect(engine.scan().map((kv) => dec(kv.key))).toEqual(['c', 'd']);
  });

  it('refuses invalid requests and stores nothing', () => {
    const { sim, engine } = setup('invalid', { ...small, maxKeyBytes: 8, maxValueBytes: 16 });
    const bad: Array<(cb: (err: Error | null) => void) => void> = [
      (cb) => engine.put(new Uint8Array(0), enc('x'), undefined, cb),
      (cb) => engine.put(enc('123456789'), enc('x'), undefined, cb),
      (cb) => engine.put(enc('k'), new Uint8Array(17), undefined, cb),
      (cb) => engine.put(enc('k'), enc('x'), { ttlMs: -5 }, cb),
      (cb) => engine.put(enc('k'), enc('x'), { ttlMs: 1.5 }, cb),
      (cb) => engine.put(enc('k'), enc('x'), { ttlMs: Number.MAX_SAFE_INTEGER }, cb),
      (cb) => engine.delete(new Uint8Array(0), cb),
      (cb) => engine.write([{ kind: 'put', key: enc('ok'), value: enc('v') }, { kind: 'put', key: enc('k'), value: new Uint8Array(17) }], cb),
    ];
    for (const op of bad) expect(() => wait(sim, op)).toThrow(InvalidRequestError);
    expect(engine.scan()).toEqual([]);
    expect(engine.stats().lastSeq).toBe(0);
    wait(sim, (cb) => engine.put(enc('12345678'), new Uint8Array(16), undefined, cb));
    expect(engine.get(enc('12345678'))).toHaveLength(16);
  });

  for (const compaction of ['leveled', 'tiered'] as const) {
    it(`${compaction}: survives flushes, compactions and reopen with every value intact`, () => {
      const { sim, node, engine } = setup(`volume-${compaction}`, { ...small, compaction });
      const model = new Map<number, string>();
      let pending = 0;
      for (let i = 0; i < 6000; i++) {
        const k = (i * 7919) % 1500;
        if (i % 11 === 0) {
          model.delete(k);
          pending++;
          engine.delete(key(k), (err) => {
            expect(err).toBeNull();
            pending--;
          });
        } else {
          const v = `v${i}-${'x'.repeat(i % 50)}`;
          model.set(k, v);
          pending++;
          engine.put(key(k), enc(v), undefined, (err) => {
            expect(err).toBeNull();
            pending--;
          });
        }
        if (i % 200 === 0) sim.run({ maxEvents: 50 });
      }
      sim.runUntil(() => pending === 0);
      wait(sim, (cb) => engine.compactAll(cb));
      const stats = engine.stats();
      expect(stats.flushesRun).toBeGreaterThan(5);
      expect(stats.compactionsRun).toBeGreaterThan(0);
      if (compaction === 'leveled') expect(stats.tablesPerLevel.slice(1).some((n) => n > 0)).toBe(true);
      else expect(stats.tablesPerLevel.slice(1).every((n) => n === 0)).toBe(true);
      const check = (e: Engine) => {
        for (let k = 0; k < 1500; k++) expect(dec(e.get(key(k)))).toBe(model.get(k));
        const scanned = e.scan().map((kv) => dec(kv.key));
        expect(scanned).toEqual([...model.keys()].sort((a, b) => a - b).map((k) => dec(key(k))));
      };
      check(engine);
      wait(sim, (cb) => engine.close(cb));
      expect(node.disk.openHandleCount()).toBe(0);
      expect(() => engine.get(key(1))).toThrow(EngineClosedError);
      const reopened = openEngine(sim, node, { ...small, compaction });
      check(reopened);
      wait(sim, (cb) => reopened.close(cb));
    });
  }

  it('recovers unflushed writes from the WAL after a crash', () => {
    const { sim, engine } = setup('wal-recovery');
    for (let i = 0; i < 100; i++) wait(sim, (cb) => engine.put(key(i), enc(`v${i}`), undefined, cb));
    sim.crash('n1');
    const node = sim.restart('n1');
    const reopened = openEngine(sim, node, small);
    for (let i = 0; i < 100; i++) expect(dec(reopened.get(key(i)))).toBe(`v${i}`);
    expect(reopened.stats().recovery.walRecords).toBe(100);
    expect(reopened.stats().lastSeq).toBe(100);
    // New writes continue the sequence.
    wait(sim, (cb) => reopened.put(key(1), enc('again'), undefined, cb));
    expect(reopened.stats().lastSeq).toBe(101);
  });

  it('starts empty over an unfinished creation, and refuses data without CURRENT', () => {
    const { sim, node, engine } = setup('no-current');
    wait(sim, (cb) => engine.put(key(1), enc('v'), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    wait(sim, (cb) => engine.close(cb));
    node.disk.remove('CURRENT');
    expect(() => openEngine(sim, node, small)).toThrow(/CURRENT is missing/);
    // An engine whose creation never completed: a manifest, an empty log, no CURRENT.
    const sim2 = new Simulator({ seed: 'unfinished' });
    const node2 = sim2.addNode('n1');
    node2.disk.create('MANIFEST-000002').close();
    node2.disk.create('000003.log').close();
    const fresh = openEngine(sim2, node2, small);
    expect(fresh.scan()).toEqual([]);
    expect(node2.disk.list()).not.toContain('000003.log');
  });

  it('expires TTL values and purges them and tombstones after the grace period', () => {
    const graceMs = 1000;
    const { sim, engine } = setup('ttl', { ...small, tombstoneGraceMs: graceMs, l0CompactionTrigger: 1 });
    wait(sim, (cb) => engine.put(enc('short'), enc('v'), { ttlMs: 50 }, cb));
    wait(sim, (cb) => engine.put(enc('long'), enc('v'), { ttlMs: 1_000_000 }, cb));
    wait(sim, (cb) => engine.put(enc('gone'), enc('v'), undefined, cb));
    wait(sim, (cb) => engine.delete(enc('gone'), cb));
    expect(dec(engine.get(enc('short')))).toBe('v');
    sim.run({ untilMs: sim.nowMs() + 100 });
    expect(engine.get(enc('short'))).toBeUndefined();
    expect(engine.scan().map((kv) => dec(kv.key))).toEqual(['long']);
    wait(sim, (cb) => engine.flush(cb));
    wait(sim, (cb) => engine.compactAll(cb));
    // Still within the grace period: kept as tombstones/expired values.
    const before = engine.stats();
    sim.run({ untilMs: sim.nowMs() + 2 * graceMs });
    // Another flush triggers another compaction over the same range.
    wait(sim, (cb) => engine.put(enc('long2'), enc('v'), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    wait(sim, (cb) => engine.compactAll(cb));
    expect(engine.scan().map((kv) => dec(kv.key))).toEqual(['long', 'long2']);
    expect(engine.get(enc('short'))).toBeUndefined();
    expect(engine.get(enc('gone'))).toBeUndefined();
    const after = engine.stats();
    expect(after.compactionsRun).toBeGreaterThan(before.compactionsRun);
    expect(before.tombstonesPurged + before.expiredPurged).toBe(0);
    expect(after.tombstonesPurged).toBe(1);
    expect(after.expiredPurged).toBe(1);
  });

  it('reports a corrupt block to the read that finds it, quarantines the table and keeps serving the rest', () => {
    const { sim, node, engine } = setup('corrupt', { ...small, compression: false, blockCacheBytes: 0 }); // no cache: every read meets the disk
    const v = (i: number) => `value-${i}-${'y'.repeat(40)}`;
    for (let i = 0; i < 400; i++) wait(sim, (cb) => engine.put(key(i), enc(v(i)), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    const tables = node.disk.list().filter((n) => parseFileName(n)?.kind === 'table').sort();
    expect(tables.length).toBeGreaterThan(1);
    const table = tables[0]!;
    const tableBytes = node.disk.durableBytes(table).length;
    node.disk.flipBit(table, 100, 3); // inside the first data block
    // The first read of a key in the bad block fails; nothing wrong is ever returned.
    let corrupt = 0;
    for (let i = 0; i < 400; i++) {
      try {
        const got = dec(engine.get(key(i)));
        expect(got === undefined || got === v(i)).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(CorruptionError);
        corrupt++;
      }
    }
    expect(corrupt).toBeGreaterThan(0);
    sim.run({ untilMs: sim.nowMs() + 100 });
    const s = engine.stats();
    expect(s.corruptBlocksSeen).toBe(corrupt);
    expect(s.quarantinedTables).toBe(1);
    expect(s.quarantinedBytes).toBe(tableBytes);
    const q = s.quarantined[0]!;
    expect(q.installed).toBe(true);
    expect(q.file).toBe(`${table}.corrupt`);
    expect(s.quarantinedEntries).toBe(q.entryCount);
    // Kept for forensics, out of the live version.
    expect(node.disk.exists(`${table}.corrupt`)).toBe(true);
    expect(node.disk.exists(table)).toBe(false);
    const lost = (i: number) => dec(key(i))! >= dec(q.smallestKey)! && dec(key(i))! <= dec(q.largestKey)!;
    let lostCount = 0;
    for (let i = 0; i < 400; i++) {
      if (lost(i)) {
        expect(engine.get(key(i))).toBeUndefined();
        lostCount++;
      } else {
        expect(dec(engine.get(key(i)))).toBe(v(i));
      }
    }
    expect(lostCount).toBe(q.entryCount);
    expect(lostCount).toBeLessThan(400);
    // Scans work again and skip the quarantined table.
    expect(engine.scan().map((kv) => dec(kv.key))).toEqual(
      Array.from({ length: 400 }, (_, i) => i)
        .filter((i) => !lost(i))
        .map((i) => dec(key(i))),
    );
    // Repair writes the lost keys again; a reopen keeps the table out.
    for (let i = 0; i < 400; i++) if (lost(i)) wait(sim, (cb) => engine.put(key(i), enc(v(i)), undefined, cb));
    wait(sim, (cb) => engine.close(cb));
    const reopened = openEngine(sim, node, { ...small, compression: false });
    for (let i = 0; i < 400; i++) expect(dec(reopened.get(key(i)))).toBe(v(i));
    expect(node.disk.exists(`${table}.corrupt`)).toBe(true);
    wait(sim, (cb) => reopened.close(cb));
  });

  it('quarantines a table that a compaction finds corrupt; other data survives', () => {
    const { sim, node, engine } = setup('corrupt-compaction', { ...small, compression: false, blockCacheBytes: 0 }); // no cache: every read meets the disk
    for (let i = 0; i < 400; i++) wait(sim, (cb) => engine.put(key(i), enc(`value-${i}-${'y'.repeat(40)}`), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    const table = node.disk.list().filter((n) => parseFileName(n)?.kind === 'table').sort()[0]!;
    node.disk.flipBit(table, 100, 3);
    for (let i = 0; i < 400; i += 2) wait(sim, (cb) => engine.put(key(i), enc('new'), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    for (let r = 0; r < 4; r++) {
      for (let i = 1; i < 400; i += 50) wait(sim, (cb) => engine.put(key(i), enc('newer'), undefined, cb));
      wait(sim, (cb) => engine.flush(cb));
    }
    // The compaction over the corrupt table failed in the background already, or fails now.
    try {
      wait(sim, (cb) => engine.compactAll(cb));
    } catch (err) {
      expect(err).toBeInstanceOf(CorruptionError);
    }
    wait(sim, (cb) => engine.compactAll(cb));
    const s = engine.stats();
    expect(s.quarantinedTables).toBe(1);
    expect(s.quarantined[0]!.file).toBe(`${table}.corrupt`);
    expect(s.corruptTables).toEqual([]);
    expect(s.backgroundErrors).toBeGreaterThan(0);
    expect(node.disk.exists(`${table}.corrupt`)).toBe(true);
    for (let i = 0; i < 400; i += 2) expect(dec(engine.get(key(i)))).toBe('new');
    for (let i = 1; i < 400; i += 50) expect(dec(engine.get(key(i)))).toBe('newer');
    // Everything still listed is right.
    for (const kv of engine.scan()) {
      const i = Number(dec(kv.key)!.slice(3));
      expect(dec(kv.value)).toBe(i % 2 === 0 ? 'new' : i % 50 === 1 ? 'newer' : `value-${i}-${'y'.repeat(40)}`);
    }
  });

  it('holds writes back when level 0 fills, without losing any', () => {
    const opts = { ...small, l0CompactionTrigger: 2, l0SlowdownTrigger: 3, l0StopTrigger: 4, compactionBytesPerSec: 200_000 };
    const { sim, engine } = setup('pressure', opts);
    let pending = 0;
    for (let i = 0; i < 3000; i++) {
      pending++;
      engine.put(key(i), enc(`v${i}-${'z'.repeat(60)}`), undefined, (err) => {
        expect(err).toBeNull();
        pending--;
      });
    }
    let maxL0 = 0;
    sim.runUntil(() => {
      maxL0 = Math.max(maxL0, engine.stats().tablesPerLevel[0]!);
      return pending === 0;
    });
    const s = engine.stats();
    expect(s.writeSlowdowns + s.writeStops).toBeGreaterThan(0);
    expect(maxL0).toBeLessThanOrEqual(opts.l0StopTrigger + 1);
    for (let i = 0; i < 3000; i += 97) expect(dec(engine.get(key(i)))).toBe(`v${i}-${'z'.repeat(60)}`);
  });

  it('a slowdown delays the queued writes as one group by 1 ms, not each write by 1 ms in turn', () => {
    // Two level-0 tables reach the slowdown trigger; the compaction that would
    // clear them is paced to take seconds, so the slowdown lasts.
    const opts = { ...small, l0CompactionTrigger: 2, l0SlowdownTrigger: 2, l0StopTrigger: 1000, compactionBytesPerSec: 1000 };
    const { sim, engine } = setup('slowdown-group', opts);
    for (const round of [0, 1]) {
      for (let i = 0; i < 100; i++) wait(sim, (cb) => engine.put(key(i), enc(`r${round}-${'x'.repeat(40)}`), undefined, cb));
      wait(sim, (cb) => engine.flush(cb));
    }
    expect(engine.stats().tablesPerLevel[0]).toBe(2);
    const start = sim.nowMs();
    const slowdownsBefore = engine.stats().writeSlowdowns;
    let pending = 0;
    for (let i = 1000; i < 1200; i++) {
      pending++;
      engine.put(key(i), enc(`v${i}`), undefined, (err) => {
        expect(err).toBeNull();
        pending--;
      });
    }
    sim.runUntil(() => pending === 0);
    // Still slowed down throughout, yet 200 writes did not take 200 ms.
    expect(engine.stats().tablesPerLevel[0]).toBe(2);
    expect(sim.nowMs() - start).toBeLessThan(50);
    const slowdowns = engine.stats().writeSlowdowns - slowdownsBefore;
    expect(slowdowns).toBeGreaterThan(0);
    expect(slowdowns).toBeLessThan(20);
    for (let i = 1000; i < 1200; i += 37) expect(dec(engine.get(key(i)))).toBe(`v${i}`);
  });

  it('a scan keeps its snapshot while flushes and compactions replace tables', () => {
    const { sim, engine } = setup('snapshot', { ...small, l0CompactionTrigger: 2 });
    for (let i = 0; i < 500; i++) wait(sim, (cb) => engine.put(key(i), enc(`old${i}`), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    const cursor = engine.iterator();
    const firstHalf: string[] = [];
    for (let i = 0; i < 250; i++) firstHalf.push(dec(cursor.next()!.value)!);
    for (let i = 0; i < 500; i++) wait(sim, (cb) => engine.put(key(i), enc(`new${i}`), undefined, cb));
    wait(sim, (cb) => engine.flush(cb));
    wait(sim, (cb) => engine.compactAll(cb));
    const rest: string[] = [];
    for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) rest.push(dec(kv.value)!);
    expect([...firstHalf, ...rest]).toEqual(Array.from({ length: 500 }, (_, i) => `old${i}`));
    expect(dec(engine.get(key(7)))).toBe('new7');
  });

  it('refuses writes on a full disk without storing them, and recovers when space returns', () => {
    const { sim, node, engine } = setup('disk-full');
    for (let i = 0; i < 50; i++) wait(sim, (cb) => engine.put(key(i), enc(`v${i}`), undefined, cb));
    node.disk.setCapacity(node.disk.usedBytes() + 200);
    const refused: number[] = [];
    for (let i = 50; i < 80; i++) {
      try {
        wait(sim, (cb) => engine.put(key(i), enc(`v${i}-${'f'.repeat(20)}`), undefined, cb));
      } catch (err) {
        expect(err).toBeInstanceOf(DiskFullError);
        refused.push(i);
      }
    }
    expect(refused.length).toBeGreaterThan(20);
    for (const i of refused) expect(engine.get(key(i))).toBeUndefined();
    // A flush cannot write its table either; it is retried, not fatal.
    let flushed: Error | null | undefined;
    engine.flush((err) => {
      flushed = err;
    });
    sim.run({ untilMs: sim.nowMs() + 3000 });
    expect(flushed).toBeUndefined();
    expect(engine.stats().backgroundErrors).toBeGreaterThan(0);
    node.disk.setCapacity(Number.POSITIVE_INFINITY);
    sim.runUntil(() => flushed !== undefined);
    expect(flushed).toBeNull();
    for (const i of refused) wait(sim, (cb) => engine.put(key(i), enc(`later${i}`), undefined, cb));
    wait(sim, (cb) => engine.close(cb));
    const reopened = openEngine(sim, node, small);
    for (let i = 0; i < 80; i++) expect(dec(reopened.get(key(i)))).toBe(refused.includes(i) ? `later${i}` : `v${i}${i < 50 ? '' : `-${'f'.repeat(20)}`}`);
  });

  it('same seed, same trace hash', () => {
    const run = (seed: string) => {
      const sim = new Simulator({ seed });
      const node = sim.addNode('n1', { clockSkewMs: 5 });
      const engine = openEngine(sim, node, { ...small, compaction: 'tiered' });
      let pending = 0;
      for (let i = 0; i < 1500; i++) {
        pending++;
        const k = node.rng.int(400);
        if (node.rng.chance(0.1)) engine.delete(key(k), () => pending--);
        else engine.put(key(k), enc(`v${i}`), node.rng.chance(0.1) ? { ttlMs: 100 } : undefined, () => pending--);
        if (i % 100 === 0) sim.run({ maxEvents: 30 });
      }
      sim.runUntil(() => pending === 0);
      wait(sim, (cb) => engine.compactAll(cb));
      sim.trace(JSON.stringify(engine.scan().map((kv) => dec(kv.key))));
      return sim.traceHash();
    };
    expect(run('trace-1')).toBe(run('trace-1'));
    expect(run('trace-1')).not.toBe(run('trace-2'));
  });
});

describe('obsolete file removal', () => {
  it('removes a compaction\'s inputs one per event-loop turn, and compactAll and close wait for them', () => {
    const held = { ...small, l0CompactionTrigger: 1000, l0SlowdownTrigger: 1000, l0StopTrigger: 1000 };
    const { sim, node, engine } = setup('obsolete-removal', held);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200; i++) wait(sim, (cb) => engine.put(key(i), enc(`v${round}-${i}-${'z'.repeat(40)}`), undefined, cb));
      wait(sim, (cb) => engine.flush(cb));
    }
    wait(sim, (cb) => engine.close(cb));
    const tables = () => node.disk.list().filter((n) => parseFileName(n)?.kind === 'table');
    const level0 = tables();
    expect(level0.length).toBeGreaterThanOrEqual(5);
    const reopened = openEngine(sim, node, { ...small, l0CompactionTrigger: 2 });
    // Events (turns) in which each table file was removed.
    const removedAt: number[] = [];
    const remove = node.disk.remove.bind(node.disk);
    node.disk.remove = (name: string) => {
      if (parseFileName(name)?.kind === 'table') removedAt.push(sim.eventsProcessed);
      remove(name);
    };
    wait(sim, (cb) => reopened.compactAll(cb));
    // compactAll answered after every input left the disk.
    for (const t of level0) expect(tables()).not.toContain(t);
    expect(removedAt.length).toBeGreaterThanOrEqual(level0.length);
    expect(new Set(removedAt).size).toBe(removedAt.length);
    for (let i = 0; i < 200; i++) expect(dec(reopened.get(key(i)))).toBe(`v4-${i}-${'z'.repeat(40)}`);
    wait(sim, (cb) => reopened.close(cb));
  });
});
