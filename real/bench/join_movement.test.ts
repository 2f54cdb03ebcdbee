import { describe, expect, it } from 'vitest';
import { measureJoinMovement, renderJoinMovement } from './join_movement.ts';

describe('join movement', () => {
  it('a join streams about the ideal share, and sample keys agree with token widths', () => {
    const r = measureJoinMovement({ from: 3, to: 6, sampleKeys: 20_000 });
    expect(r.rows.map((x) => x.nodes)).toEqual([3, 4, 5, 6]);
    for (const row of r.rows) {
      expect(row.idealShare).toBeCloseTo(3 / (row.nodes + 1), 12);
      expect(row.ratio).toBeGreaterThan(0.85);
      expect(row.ratio).toBeLessThan(1.1);
      expect(Math.abs(row.keysRatio - row.ratio)).toBeLessThan(0.06);
    }
    expect(renderJoinMovement(r)).toContain('worst ratio');
  }, 60_000);
});
