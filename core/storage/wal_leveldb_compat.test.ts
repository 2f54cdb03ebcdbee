// The log format is LevelDB's, checked against LevelDB itself (through
// classic-level): readWal reads the log LevelDB wrote, and LevelDB recovers
// from a log WalWriter wrote, records over 32 KiB included. The payloads here
// are LevelDB write batches (fixed64 seq, fixed32 count, then tagged key and
// value strings), not ringkv's.

import { ClassicLevel } from 'classic-level';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualSyncFile } from './manual_sync_file.ts';
import { readWal } from './wal_reader.ts';
import { WalWriter } from './wal_writer.ts';

type Op = { put: [string, Uint8Array] } | { del: string };

function levelDbBatch(seq: number, ops: Op[]): Uint8Array {
  const parts: number[] = [];
  const fixed = (v: number, bytes: number) => {
    for (let i = 0; i < bytes; i++) parts.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  };
  const varint = (v: number) => {
    while (v >= 0x80) {
      parts.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    parts.push(v);
  };
  const str = (b: Uint8Array) => {
    varint(b.length);
    for (const x of b) parts.push(x);
  };
  fixed(seq, 8);
  fixed(ops.length, 4);
  for (const op of ops) {
    if ('put' in op) {
      parts.push(1);
      str(Buffer.from(op.put[0]));
      str(op.put[1]);
    } else {
      parts.push(0);
      str(Buffer.from(op.del));
    }
  }
  return new Uint8Array(parts);
}

function batchHeader(record: Uint8Array): { seq: number; count: number } {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  return { seq: Number(view.getBigUint64(0, true)), count: view.getUint32(8, true) };
}

const logName = (dir: string) => readdirSync(dir).find((f) => f.endsWith('.log'))!;

describe('WAL compatibility with LevelDB', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkv-wal-leveldb-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the log LevelDB writes', async () => {
    const dir = freshDir();
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    await db.put(Buffer.from('a'), Buffer.from('1'));
    await db.put(Buffer.from('big'), Buffer.alloc(100_000, 7));
    await db.batch([
      { type: 'put', key: Buffer.from('x'), value: Buffer.from('y') },
      { type: 'del', key: Buffer.from('a') },
    ]);
    await db.close();
    const bytes = new Uint8Array(readFileSync(join(dir, logName(dir))));
    const replay = readWal(new ManualSyncFile('leveldb.log', bytes));
    expect(replay.stopReason).toBe('eof');
    expect(replay.records.map(batchHeader)).toEqual([
      { seq: 1, count: 1 },
      { seq: 2, count: 1 },
      { seq: 3, count: 2 },
    ]);
    expect(replay.records[1]!.length).toBeGreaterThan(100_000);
    expect(Buffer.from(replay.records[0]!)).toEqual(Buffer.from(levelDbBatch(1, [{ put: ['a', Buffer.from('1')] }])));
  });

  it('is recovered by LevelDB when WalWriter wrote it', async () => {
    const dir = freshDir();
    // An empty database: CURRENT, a manifest, and an empty log to replace.
    const empty = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await empty.open();
    await empty.close();
    const name = logName(dir);

    const big = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
    const file = new ManualSyncFile(name);
    const writer = new WalWriter(file);
    const batches: Op[][] = [
      [{ put: ['k1', Buffer.from('v1')] }],
      [{ put: ['big', big] }, { put: ['k2', Buffer.from('v2')] }],
      [{ del: 'k1' }],
      ...Array.from({ length: 300 }, (_, i): Op[] => [{ put: [`n${i}`, Buffer.alloc(i * 7, i & 0xff)] }]),
    ];
    let seq = 1;
    for (const ops of batches) {
      writer.append(levelDbBatch(seq, ops), false, (err) => expect(err).toBeNull());
      seq += ops.length;
    }
    writeFileSync(join(dir, name), file.contents());

    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    try {
      expect(await db.get(Buffer.from('k1'))).toBeUndefined();
      expect((await db.get(Buffer.from('k2')))?.toString()).toBe('v2');
      expect(Buffer.from((await db.get(Buffer.from('big')))!).equals(Buffer.from(big))).toBe(true);
      for (let i = 0; i < 300; i++) {
        expect(Buffer.from((await db.get(Buffer.from(`n${i}`)))!).equals(Buffer.alloc(i * 7, i & 0xff))).toBe(true);
      }
    } finally {
      await db.close();
    }
  });
});
