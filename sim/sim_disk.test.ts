import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { DiskFullError, DiskReadError, FileNotFoundError } from '../io/disk.ts';
import { describeDiskConformance } from '../io/disk_conformance.ts';
import { SECTOR_BYTES, SimDisk, type SimDiskHost, type SimDiskOptions, type TailOutcome } from './sim_disk.ts';
import { SimRng } from './sim_rng.ts';

/** A host whose scheduled completions run only when the test says so, per kind, in call order. */
class ManualHost implements SimDiskHost {
  readonly queued = new Map<string, (() => void)[]>();
  readonly ops: string[] = [];
  nowMs(): number {
    return 0;
  }
  schedule(_delayMs: number, kind: string, fn: () => void): void {
    const list = this.queued.get(kind) ?? [];
    list.push(fn);
    this.queued.set(kind, list);
  }
  onOp(op: string, name: string, size: number): void {
    this.ops.push(`${op} ${name} ${size}`);
  }
  flush(kind?: string): void {
    for (const k of kind === undefined ? [...this.queued.keys()] : [kind]) {
      const list = this.queued.get(k) ?? [];
      this.queued.set(k, []);
      for (const fn of list) fn();
    }
  }
  drop(): void {
    this.queued.clear();
  }
}

function makeDisk(seed: string | number, options: SimDiskOptions = {}): { disk: SimDisk; host: ManualHost } {
  const host = new ManualHost();
  return { disk: new SimDisk(host, new SimRng(seed).fork('disk'), options), host };
}

const bytesOf = (a: Uint8Array): number[] => Array.from(a);

function fileBytes(disk: SimDisk, name: string): Uint8Array {
  const f = disk.open(name);
  const out = f.pread(0, f.size());
  f.close();
  return out;
}

describeDiskConformance('SimDisk', () => {
  const { disk, host } = makeDisk('conformance');
  return { disk, runUntilIdle: () => host.flush() };
});

describe('SimDisk file durability', () => {
  it('keeps every synced byte through a crash, and the durable prefix is what durableBytes reports', () => {
    const { disk, host } = makeDisk(1);
    const f = disk.create('wal');
    disk.syncDir(() => {});
    f.append(new Uint8Array(1000).fill(7));
    f.sync(() => {});
    host.flush();
    f.append(new Uint8Array(3000).fill(9));
    expect(disk.durableBytes('wal').length).toBe(1000);
    disk.crash(new SimRng('crash'));
    const after = fileBytes(disk, 'wal');
    expect(after.length).toBeGreaterThanOrEqual(1000);
    expect(after.subarray(0, 1000).every((b) => b === 7)).toBe(true);
    expect(disk.durableBytes('wal').length).toBe(after.length);
  });

  it('a sync covers only bytes appended before the call', () => {
    const { disk, host } = makeDisk(2);
    const f = disk.create('a');
    disk.syncDir(() => {});
    f.append(new Uint8Array(10).fill(1));
    f.sync(() => {});
    f.append(new Uint8Array(10).fill(2));
    host.flush();
    expect(disk.durableBytes('a').length).toBe(10);
  });

  it('drops pending sync callbacks on crash and kills old handles', () => {
    const { disk, host } = makeDisk(3);
    const f = disk.create('a');
    f.append(new Uint8Array(10));
    const calls: unknown[] = [];
    f.sync((e) => calls.push(e));
    disk.syncDir((e) => calls.push(e));
    disk.crash(new SimRng(3));
    host.flush();
    expect(calls).toEqual([]);
    expect(() => f.size()).toThrow(AssertionError);
    expect(() => f.append(new Uint8Array(1))).toThrow(AssertionError);
  });

  it('sync completions of one file come back in call order', () => {
    // A host with time ordering: completions run sorted by due time.
    const due: { at: number; seq: number; fn: () => void }[] = [];
    let seq = 0;
    const timed = new SimDisk(
      { nowMs: () => 0, schedule: (d, _k, fn) => due.push({ at: d, seq: seq++, fn }) },
      new SimRng(4),
      { syncLatencyMs: [0, 100] },
    );
    const f = timed.create('x');
    const order: number[] = [];
    for (let i = 0; i < 50; i++) {
      f.append(new Uint8Array([i]));
      f.sync(() => order.push(i));
    }
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const d of due) d.fn();
    expect(order).toEqual([...Array(50).keys()]);
  });

  it('a removed file stays readable through an open handle', () => {
    const { disk } = makeDisk(5);
    const f = disk.create('a');
    f.append(new Uint8Array([1, 2, 3]));
    disk.remove('a');
    expect(bytesOf(f.pread(0, 3))).toEqual([1, 2, 3]);
    expect(disk.exists('a')).toBe(false);
  });

  it('closed handles refuse use; open handles are counted', () => {
    const { disk } = makeDisk(6);
    const f = disk.create('a');
    const g = disk.open('a');
    expect(disk.openHandleCount()).toBe(2);
    f.close();
    expect(() => f.append(new Uint8Array(1))).toThrow(AssertionError);
    expect(() => f.close()).toThrow(AssertionError);
    g.close();
    expect(disk.openHandleCount()).toBe(0);
  });

  it('reaches every tail outcome over seeds, and tears only at sector boundaries', () => {
    const seen = new Set<TailOutcome>();
    for (let seed = 0; seed < 200; seed++) {
      const { disk, host } = makeDisk(seed);
      const f = disk.create('f');
      disk.syncDir(() => {});
      const written = new Uint8Array(5000);
      for (let i = 0; i < written.length; i++) written[i] = 1 + (i % 250);
      f.append(written.subarray(0, 700));
      f.sync(() => {});
      host.flush();
      f.append(written.subarray(700));
      const outcome = disk.crash(new SimRng(`c${seed}`)).get('f')!;
      seen.add(outcome);
      const after = fileBytes(disk, 'f');
      expect(after.length).toBeGreaterThanOrEqual(700);
      if (outcome === 'kept') expect(after.length).toBe(5000);
      if (outcome === 'dropped') expect(after.length).toBe(700);
      if (outcome.startsWith('torn')) expect(after.length === 5000 || after.length % SECTOR_BYTES === 0).toBe(true);
      const lastSector = Math.max(700, Math.floor((after.length - 1) / SECTOR_BYTES) * SECTOR_BYTES);
      expect(bytesOf(after.subarray(0, lastSector))).toEqual(bytesOf(written.subarray(0, lastSector)));
      if (outcome === 'torn-zeroed') expect(after.subarray(lastSector).every((b) => b === 0)).toBe(true);
      if (outcome !== 'torn-zeroed' && outcome !== 'torn-garbled') {
        expect(bytesOf(after)).toEqual(bytesOf(written.subarray(0, after.length)));
      }
    }
    expect([...seen].sort()).toEqual(['dropped', 'kept', 'torn-garbled', 'torn-intact', 'torn-zeroed']);
  });

  it('property: after random appends, syncs and crashes, content matches the crash rules', () => {
    type Cmd =
      | { t: 'append'; file: number; len: number; byte: number }
      | { t: 'sync'; file: number }
      | { t: 'complete' }
      | { t: 'crash' };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ t: fc.constant('append' as const), file: fc.nat(2), len: fc.integer({ min: 1, max: 1500 }), byte: fc.nat(255) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('sync' as const), file: fc.nat(2) }) },
      { weight: 2, arbitrary: fc.constant({ t: 'complete' as const }) },
      { weight: 1, arbitrary: fc.constant({ t: 'crash' as const }) },
    );
    fc.assert(
      fc.property(fc.integer(), fc.array(cmd, { maxLength: 60 }), (seed, cmds) => {
        const { disk, host } = makeDisk(seed);
        const crashRng = new SimRng(seed).fork('crash');
        const names = ['f0', 'f1', 'f2'];
        // Model per file: every byte the file should hold, and how many are known durable.
        const model = names.map(() => ({ bytes: [] as number[], synced: 0 }));
        let handles = names.map((n) => disk.create(n));
        disk.syncDir(() => {});
        host.flush();
        const check = (): void => {
          names.forEach((n, i) => {
            expect(bytesOf(handles[i]!.pread(0, handles[i]!.size()))).toEqual(model[i]!.bytes);
            expect(disk.durableBytes(n).length).toBe(model[i]!.synced);
          });
        };
        for (const c of cmds) {
          if (c.t === 'append') {
            const data = new Uint8Array(c.len);
            for (let k = 0; k < c.len; k++) data[k] = (c.byte + k) & 0xff;
            handles[c.file]!.append(data);
            model[c.file]!.bytes.push(...data);
          } else if (c.t === 'sync') {
            const target = model[c.file]!.bytes.length;
            handles[c.file]!.sync(() => {
              model[c.file]!.synced = Math.max(model[c.file]!.synced, target);
            });
          } else if (c.t === 'complete') {
            host.flush();
          } else {
            disk.crash(crashRng);
            host.drop();
            handles = names.map((n) => disk.open(n));
            names.forEach((_, i) => {
              const m = model[i]!;
              const after = bytesOf(handles[i]!.pread(0, handles[i]!.size()));
              expect(after.length).toBeGreaterThanOrEqual(m.synced);
              expect(after.length).toBeLessThanOrEqual(m.bytes.length);
              // Bytes below the last kept sector (and every synced byte) are what was written.
              const exactUpTo = Math.max(m.synced, Math.floor((after.length - 1) / SECTOR_BYTES) * SECTOR_BYTES, 0);
              expect(after.slice(0, exactUpTo)).toEqual(m.bytes.slice(0, exactUpTo));
              const lastSectorExact = after.slice(exactUpTo).every((b, k) => b === m.bytes[exactUpTo + k]);
              // A damaged last sector only at a tear: the cut is a sector boundary or the old end.
              if (!lastSectorExact) expect(after.length % SECTOR_BYTES === 0 || after.length === m.bytes.length).toBe(true);
              model[i] = { bytes: after, synced: after.length };
            });
          }
          check();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('SimDisk directory durability', () => {
  it('a created file that was never dir-synced may vanish, and a dir-synced one never does', () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const { disk, host } = makeDisk(seed);
      disk.create('kept').close();
      disk.syncDir(() => {});
      host.flush();
      disk.create('maybe').close();
      disk.crash(new SimRng(seed));
      expect(disk.exists('kept')).toBe(true);
      outcomes.add(disk.list().join(','));
    }
    expect([...outcomes].sort()).toEqual(['kept', 'kept,maybe']);
  });

  it('an unsynced rename over a file either happened or not, atomically', () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const { disk, host } = makeDisk(seed);
      const cur = disk.create('CURRENT');
      cur.append(new Uint8Array([1]));
      const tmp = disk.create('CURRENT.tmp');
      tmp.append(new Uint8Array([2]));
      cur.sync(() => {});
      tmp.sync(() => {});
      disk.syncDir(() => {});
      host.flush();
      disk.rename('CURRENT.tmp', 'CURRENT');
      disk.crash(new SimRng(seed));
      const state = `${disk.list().join(',')}:${bytesOf(fileBytes(disk, 'CURRENT'))}`;
      expect(['CURRENT,CURRENT.tmp:1', 'CURRENT:2']).toContain(state);
      outcomes.add(state);
    }
    expect(outcomes.size).toBe(2);
  });

  it('syncDir makes only the operations before its call durable', () => {
    const { disk, host } = makeDisk(7);
    disk.create('a').close();
    disk.syncDir(() => {});
    disk.create('b').close();
    host.flush();
    expect(disk.durableBytes('a')).toEqual(new Uint8Array(0));
    for (let seed = 0; seed < 20; seed++) {
      const d = makeDisk(seed);
      d.disk.create('a').close();
      d.disk.syncDir(() => {});
      d.disk.create('b').close();
      d.host.flush();
      d.disk.crash(new SimRng(seed));
      expect(d.disk.exists('a')).toBe(true);
    }
  });

  it('property: after a crash the directory is one that keeping some unsynced operations in order gives', () => {
    type Op = { t: 'create'; name: number } | { t: 'rename'; from: number; to: number } | { t: 'remove'; name: number } | { t: 'syncDir' } | { t: 'complete' } | { t: 'crash' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ t: fc.constant('create' as const), name: fc.nat(3) }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('rename' as const), from: fc.nat(3), to: fc.nat(3) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), name: fc.nat(3) }) },
      { weight: 1, arbitrary: fc.constant({ t: 'syncDir' as const }) },
      { weight: 1, arbitrary: fc.constant({ t: 'complete' as const }) },
      { weight: 1, arbitrary: fc.constant({ t: 'crash' as const }) },
    );
    type ModelOp = { kind: 'create' | 'remove'; name: string; tag: number } | { kind: 'rename'; from: string; to: string; tag: number };
    const applyOp = (dir: Map<string, number>, m: ModelOp): void => {
      if (m.kind !== 'rename') {
        if (m.kind === 'create') dir.set(m.name, m.tag);
        else if (dir.get(m.name) === m.tag) dir.delete(m.name);
      } else if (dir.get(m.from) === m.tag) {
        dir.delete(m.from);
        dir.set(m.to, m.tag);
      }
    };
    const render = (dir: Map<string, number>): string => [...dir.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([n, t]) => `${n}=${t}`).join(' ');
    fc.assert(
      fc.property(fc.integer(), fc.array(op, { maxLength: 40 }), (seed, ops) => {
        const { disk, host } = makeDisk(seed);
        const crashRng = new SimRng(seed).fork('crash');
        let durable = new Map<string, number>();
        let current = new Map<string, number>();
        let pending: ModelOp[] = [];
        let nextTag = 1;
        for (const o of ops) {
          if (o.t === 'create') {
            const name = `n${o.name}`;
            const tag = nextTag++;
            const f = disk.create(name);
            f.append(new Uint8Array([tag]));
            f.sync(() => {});
            host.flush('disk.sync');
            f.close();
            current.set(name, tag);
            pending.push({ kind: 'create', name, tag });
          } else if (o.t === 'rename' || o.t === 'remove') {
            const from = `n${o.t === 'rename' ? o.from : o.name}`;
            const tag = current.get(from);
            if (tag === undefined) {
              expect(() => (o.t === 'rename' ? disk.rename(from, `n${o.to}`) : disk.remove(from))).toThrow(FileNotFoundError);
              continue;
            }
            if (o.t === 'remove') {
              disk.remove(from);
              current.delete(from);
              pending.push({ kind: 'remove', name: from, tag });
            } else {
              const to = `n${o.to}`;
              disk.rename(from, to);
              if (from !== to) {
                current.delete(from);
                current.set(to, tag);
                pending.push({ kind: 'rename', from, to, tag });
              }
            }
          } else if (o.t === 'syncDir') {
            const upTo = pending.length;
            const covered = pending.slice(0, upTo);
            disk.syncDir(() => {
              // An earlier sync may have made some of them durable already.
              const still = covered.filter((m) => pending.includes(m));
              for (const m of still) applyOp(durable, m);
              pending = pending.filter((m) => !still.includes(m));
            });
          } else if (o.t === 'complete') {
            host.flush();
          } else {
            // Every subset of the pending ops, kept in order, is a legal outcome (at most 2^12 here).
            const legal = new Set<string>();
            const k = Math.min(pending.length, 12);
            if (pending.length > 12) return; // too many to enumerate; this run proves nothing more
            for (let mask = 0; mask < 1 << k; mask++) {
              const dir = new Map(durable);
              pending.forEach((m, i) => (mask >> i) & 1 && applyOp(dir, m));
              legal.add(render(dir));
            }
            disk.crash(crashRng);
            host.drop();
            const actual = new Map(disk.list().map((n) => [n, fileBytes(disk, n)[0]!] as [string, number]));
            expect(legal).toContain(render(actual));
            durable = actual;
            current = new Map(actual);
            pending = [];
          }
          expect(disk.list()).toEqual([...current.keys()].sort());
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('SimDisk faults', () => {
  it('a full disk makes append throw DiskFullError and write nothing; removing frees space', () => {
    const { disk } = makeDisk(8, { capacityBytes: 1000 });
    const f = disk.create('a');
    f.append(new Uint8Array(600));
    expect(() => f.append(new Uint8Array(500))).toThrow(DiskFullError);
    expect(f.size()).toBe(600);
    f.append(new Uint8Array(400));
    expect(disk.usedBytes()).toBe(1000);
    expect(() => f.append(new Uint8Array(1))).toThrow(DiskFullError);
    const g = disk.create('b');
    expect(() => g.append(new Uint8Array(1))).toThrow(DiskFullError);
    disk.remove('a');
    g.append(new Uint8Array(1000));
    expect(disk.usedBytes()).toBe(1000);
    disk.setCapacity(5000);
    g.append(new Uint8Array(4000));
    expect(g.size()).toBe(5000);
  });

  it('read errors come at the configured rate and leave the data intact', () => {
    const { disk } = makeDisk(9, { readErrorRate: 0.3 });
    const f = disk.create('a');
    f.append(new Uint8Array([5, 6, 7]));
    let errors = 0;
    for (let i = 0; i < 1000; i++) {
      try {
        expect(bytesOf(f.pread(0, 3))).toEqual([5, 6, 7]);
      } catch (e) {
        expect(e).toBeInstanceOf(DiskReadError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(230);
    expect(errors).toBeLessThan(370);
    disk.setReadErrorRate(0);
    for (let i = 0; i < 100; i++) f.pread(0, 3);
  });

  it('flipBit changes exactly one bit, visible to every reader', () => {
    const { disk } = makeDisk(10);
    const f = disk.create('a');
    f.append(new Uint8Array(100).fill(0x0f));
    disk.flipBit('a', 42, 7);
    const data = fileBytes(disk, 'a');
    expect(data[42]).toBe(0x8f);
    expect(data.filter((b) => b !== 0x0f).length).toBe(1);
    expect(() => disk.flipBit('a', 100, 0)).toThrow(AssertionError);
    expect(() => disk.flipBit('zz', 0, 0)).toThrow(FileNotFoundError);
  });

  it('flipRandomBits rots only durable bytes of durable files, deterministically', () => {
    const run = (seed: number): { flips: string; data: number[][] } => {
      const { disk, host } = makeDisk(seed);
      const files = ['a', 'b', 'c'].map((n) => disk.create(n));
      disk.syncDir(() => {});
      files.forEach((f, i) => {
        f.append(new Uint8Array(1000 * (i + 1)));
        f.sync(() => {});
      });
      host.flush();
      files.forEach((f) => f.append(new Uint8Array(500)));
      const flips = disk.flipRandomBits(new SimRng(seed), 20);
      const data = ['a', 'b', 'c'].map((n) => bytesOf(fileBytes(disk, n)));
      data.forEach((d, i) => {
        // The unsynced tail is untouched.
        expect(d.slice(1000 * (i + 1)).every((b) => b === 0)).toBe(true);
      });
      const setBits = data.flat().reduce((n, b) => n + b.toString(2).split('1').length - 1, 0);
      const distinct = new Set(flips.map((x) => `${x.name}:${x.byteOffset}:${x.bit}`)).size;
      expect(setBits).toBeLessThanOrEqual(20);
      expect(setBits % 2).toBe(distinct % 2);
      return { flips: JSON.stringify(flips), data };
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11).flips).not.toEqual(run(12).flips);
  });

  it('crash outcomes and disk randomness are a function of the seeds', () => {
    const run = (seed: number): string => {
      const { disk, host } = makeDisk(seed, { readErrorRate: 0.1 });
      const crashRng = new SimRng(seed).fork('crash');
      const trace: string[] = [];
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 4; i++) {
          const f = disk.create(`r${round}-${i}`);
          f.append(new Uint8Array(700 * (i + 1)).fill(i + 1));
          if (i % 2 === 0) f.sync(() => {});
          try {
            f.pread(0, 10);
          } catch {
            trace.push('read error');
          }
        }
        if (round % 2 === 0) disk.syncDir(() => {});
        host.flush();
        disk.crash(crashRng);
        trace.push(disk.list().map((n) => `${n}:${disk.durableBytes(n).length}`).join(','));
      }
      return trace.join('|') + host.ops.join(';');
    };
    expect(run(5)).toBe(run(5));
    expect(run(5)).not.toBe(run(6));
  });
});
