// A replica whose log rots in the middle loses writes it acknowledged; a
// STRONG quorum must not rest on it, or a read answers an older version than
// a completed write.

import { describe, expect, it } from 'vitest';
import { ClusterFixture, dec, enc } from './cluster_fixture.testkit.ts';
import { CorruptionError } from '../storage/errors.ts';
import { completenessAtOpen, lossAtOpen } from './replica_completeness.ts';

const STRONG = { level: 'STRONG' } as const;
const noLoss = { walFiles: 1, walRecords: 3, walBytesDropped: 0, walRecordsAfterGap: 0, walLogsDamaged: 0, entriesRecovered: 3 };

describe('replica completeness', () => {
  it('names the evidence of lost writes at open', () => {
    expect(lossAtOpen(noLoss, ['000001.log', 'CURRENT'], 0)).toBeNull();
    expect(lossAtOpen({ ...noLoss, walBytesDropped: 40 }, [], 0)).toContain('tail dropped');
    expect(lossAtOpen({ ...noLoss, walLogsDamaged: 1 }, [], 0)).toContain('damaged');
    expect(lossAtOpen(noLoss, [], 2)).toContain('quarantined');
    expect(lossAtOpen(noLoss, ['000007.sst.corrupt'], 0)).toContain('quarantined table file');
  });

  it('writes the flag anew when reading it hits corruption, so the next open still knows', () => {
    const unreadable = (): boolean => {
      throw new CorruptionError('block checksum mismatch');
    };
    // A seeded run lost acknowledged writes this way: the corrupt table holding the flag was compacted
    // away before the next open, which then found neither the flag nor any other evidence.
    expect(completenessAtOpen(unreadable, null)).toEqual({ incomplete: true, writeFlag: true });
    expect(completenessAtOpen(unreadable, '1 log(s) damaged before their end')).toEqual({ incomplete: true, writeFlag: true });
    expect(completenessAtOpen(() => true, null)).toEqual({ incomplete: true, writeFlag: false });
    expect(completenessAtOpen(() => false, '2 table(s) quarantined')).toEqual({ incomplete: true, writeFlag: true });
    expect(completenessAtOpen(() => false, null)).toEqual({ incomplete: false, writeFlag: false });
    expect(() => completenessAtOpen(() => { throw new TypeError('bug'); }, null)).toThrow(TypeError);
  });

  function rotAndRead(where: string, flipAt: (logBytes: number) => number): void {
    const c = new ClusterFixture(`rotten-log-${where}`, { nodes: 3 });
    const key = 'k';
    const [a, b, r] = c.home(key) as [string, string, string];
    expect(c.put(a, { keyspace: 'default', key: enc(key), value: enc('v1'), consistency: STRONG })).toEqual({ ok: true });
    c.advance(50);
    // r misses v2; a and b acknowledge it.
    c.crash(r);
    expect(c.put(a, { keyspace: 'default', key: enc(key), value: enc('v2'), consistency: STRONG })).toEqual({ ok: true });
    c.restart(r);
    expect(c.held('default', key).get(r)).toEqual(['v1']);
    // Bit rot in a's log, then a restart: replay stops there, and v2 (at least) is gone from a.
    const disk = c.sim.node(a).disk;
    const log = disk.list().find((n) => n.endsWith('.log'))!;
    disk.flipBit(log, flipAt(disk.durableBytes(log).length), 3);
    c.crash(a);
    c.restart(a);
    expect(c.held('default', key).get(a) ?? []).not.toContain('v2');
    expect(c.node(a).marks().get('replica may have lost writes')).toBe(1);
    // With b down, a and r are a majority of the home replicas, but only r can be counted.
    c.crash(b);
    c.advance(1000);
    const got = c.get(r, { keyspace: 'default', key: enc(key), consistency: STRONG });
    expect(got.ok).toBe(false);
    // b back: the read answers v2 and writes it back.
    c.restart(b);
    c.advance(1000);
    const again = c.get(r, { keyspace: 'default', key: enc(key), consistency: STRONG });
    expect(again.ok && again.values.map(dec)).toEqual(['v2']);
    // The flag outlives a clean restart.
    c.crash(a);
    c.restart(a);
    expect(c.node(a).marks().get('replica may have lost writes')).toBe(1);
  }

  it('a STRONG read does not count a replica whose log rotted in the middle', () => rotAndRead('middle', () => 12));

  // Rot in the last record looks exactly like a torn unsynced tail.
  it('a STRONG read does not count a replica whose last log record rotted', () => rotAndRead('tail', (bytes) => bytes - 3));
});
