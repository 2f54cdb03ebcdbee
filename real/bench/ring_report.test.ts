import { describe, expect, it } from 'vitest';
import { ringReport } from './ring_report.ts';

describe('ringReport', () => {
  it('measures every strategy and size, and balanced tokens beat random ones', () => {
    const report = ringReport({ maxNodes: 20, vnodes: [16], measureMs: 10 });
    expect(report.spreads.map((s) => `${s.vnodes}/${s.strategy}`)).toEqual(['16/random', '16/balanced']);
    const [random, balanced] = report.spreads as [(typeof report.spreads)[number], (typeof report.spreads)[number]];
    expect(balanced.at.map((a) => a.nodes)).toEqual([3, 5, 10, 20]);
    expect(balanced.worstPrimary).toBeLessThan(random.worstPrimary);
    expect(balanced.worstReplica).toBeLessThan(random.worstReplica);
    expect(balanced.joinMoveMax).toBeLessThanOrEqual(1.1);
    for (const s of report.spreads) expect(s.worstPrimary).toBeGreaterThanOrEqual(Math.max(...s.at.map((a) => a.primary)));
    expect(report.hashing.map((h) => h.keyBytes)).toEqual([16, 64, 256]);
    expect(report.hashing.every((h) => h.murmur3PerSecond > 0 && h.md5PerSecond > 0)).toBe(true);
    expect(report.lookups).toMatchObject({ nodes: 20, vnodes: 16 });
    expect(report.lookups.preferenceListsPerSecond).toBeGreaterThan(0);
  });
});
