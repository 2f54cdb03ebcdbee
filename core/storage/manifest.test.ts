import { describe, expect, it } from 'vitest';
import { Simulator } from '../../sim/simulator.ts';
import { CorruptionError } from './errors.ts';
import {
  CURRENT_FILE,
  ManifestLog,
  manifestFileName,
  parseFileName,
  readManifest,
  tableFileName,
  walFileName,
} from './manifest.ts';
import type { TableMeta } from './version_edit.ts';
import { VersionSet } from './version_set.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function table(fileNumber: number, seq: number): TableMeta {
  return {
    fileNumber, fileBytes: 1000 + fileNumber, entryCount: 5, tombstoneCount: 1,
    smallestKey: enc(`a${fileNumber}`), largestKey: enc(`z${fileNumber}`), smallestSeq: seq, largestSeq: seq + 4,
  };
}

function setup(maxBytes = 1 << 20) {
  const sim = new Simulator({ seed: 'manifest' });
  const node = sim.addNode('n1');
  const versions = new VersionSet();
  let log: ManifestLog | undefined;
  ManifestLog.create(node.disk, versions, maxBytes, (err, l) => {
    expect(err).toBeNull();
    log = l;
  });
  sim.runUntil(() => log !== undefined, { maxEvents: 100_000 });
  const apply = (edit: Parameters<ManifestLog['logAndApply']>[0]) => {
    let done = false;
    log!.logAndApply(edit, (err) => {
      expect(err).toBeNull();
      done = true;
    });
    expect(sim.runUntil(() => done, { maxEvents: 100_000 })).toBe(true);
  };
  return { sim, node, versions, log: log!, apply };
}

describe('file names', () => {
  it('round-trip and reject foreign names', () => {
    expect(parseFileName(tableFileName(7))).toEqual({ kind: 'table', number: 7 });
    expect(parseFileName(walFileName(1234567))).toEqual({ kind: 'wal', number: 1234567 });
    expect(parseFileName(manifestFileName(3))).toEqual({ kind: 'manifest', number: 3 });
    expect(parseFileName('CURRENT')?.kind).toBe('current');
    expect(parseFileName('CURRENT.tmp')?.kind).toBe('temp');
    for (const n of ['7.sst', '000007.sst.bak', 'LOCK', 'MANIFEST-1', 'notes.txt']) expect(parseFileName(n)).toBeUndefined();
  });
});

describe('manifest', () => {
  it('replays every durable edit into the same state', () => {
    const { node, versions, apply } = setup();
    apply({ addedTables: [{ level: 0, table: table(10, 1) }], logNumber: 9, lastSeq: 5 });
    apply({ addedTables: [{ level: 0, table: table(11, 6) }] });
    apply({
      deletedTables: [{ level: 0, fileNumber: 10 }, { level: 0, fileNumber: 11 }],
      addedTables: [{ level: 1, table: table(12, 1) }],
      compactPointers: [{ level: 1, key: enc('m') }],
    });
    const got = readManifest(node.disk)!;
    expect(got.versions.current.levels).toEqual(versions.current.levels);
    expect(got.versions.logNumber).toBe(9);
    expect(got.versions.lastSeq).toBe(10);
    expect(got.versions.nextFileNumber).toBeGreaterThanOrEqual(13);
    expect(got.versions.compactPointers[1]).toEqual(enc('m'));
    expect(got.edits).toBe(4);
  });

  it('rolls over to a fresh manifest with a snapshot, switching CURRENT', () => {
    const { node, versions, log, apply } = setup(300);
    const first = log.manifestNumber;
    for (let i = 0; i < 20; i++) apply({ addedTables: [{ level: 0, table: table(100 + i, 10 * i + 1) }] });
    expect(log.manifestNumber).toBeGreaterThan(first);
    const got = readManifest(node.disk)!;
    expect(got.manifestNumber).toBe(log.manifestNumber);
    expect(got.versions.current.levels).toEqual(versions.current.levels);
    expect(got.edits).toBeLessThan(20);
  });

  it('drops a torn last edit, which was never acted on', () => {
    const { node, versions, log, apply } = setup();
    apply({ addedTables: [{ level: 0, table: table(10, 1) }] });
    const file = node.disk.open(manifestFileName(log.manifestNumber));
    file.append(Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x40, 0x00, 0x01, 0xaa));
    file.close();
    const got = readManifest(node.disk)!;
    expect(got.tail).toBe('torn-tail');
    expect(got.versions.current.levels).toEqual(versions.current.levels);
  });

  it('refuses a manifest damaged before its tail, and a bad CURRENT', () => {
    const { node, log, apply } = setup();
    for (let i = 0; i < 3; i++) apply({ addedTables: [{ level: 0, table: table(10 + i, 10 * i + 1) }] });
    const name = manifestFileName(log.manifestNumber);
    node.disk.flipBit(name, 12, 2); // inside the snapshot record
    expect(() => readManifest(node.disk)).toThrow(CorruptionError);
    node.disk.flipBit(name, 12, 2);
    expect(readManifest(node.disk)).toBeDefined();

    const current = node.disk.create(CURRENT_FILE);
    current.append(enc('MANIFEST-0000\n'));
    current.close();
    expect(() => readManifest(node.disk)).toThrow(/does not name a manifest/);
    const dangling = node.disk.create(CURRENT_FILE);
    dangling.append(enc(`${manifestFileName(999)}\n`));
    dangling.close();
    expect(() => readManifest(node.disk)).toThrow(/does not exist/);
  });

  it('finds nothing where no engine was ever completed', () => {
    const sim = new Simulator({ seed: 'empty' });
    expect(readManifest(sim.addNode('n1').disk)).toBeUndefined();
  });
});
