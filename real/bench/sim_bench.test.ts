import { describe, expect, it } from 'vitest';
import { parseCpuList, renderSimBench, runSimBench } from './sim_bench.ts';

describe('sim bench', () => {
  it('reads kernel CPU lists, and refuses what is not one', () => {
    expect(parseCpuList('0-1')).toEqual([0, 1]);
    expect(parseCpuList('3')).toEqual([3]);
    expect(parseCpuList('0-2,5,7-8\n')).toEqual([0, 1, 2, 5, 7, 8]);
    expect(parseCpuList('2-1')).toBeNull();
    expect(parseCpuList('a')).toBeNull();
    expect(parseCpuList('')).toBeNull();
  });

  it('measures seeds, counts their events and says whether the process was pinned', () => {
    const r = runSimBench(2, 1);
    expect(r.seeds).toBe(2);
    expect(r.events).toBeGreaterThan(0);
    expect(r.unmet).toEqual([]);
    expect(r.eventsPerCpuSecond).toBeCloseTo(r.events / (r.cpuMs / 1000), 6);
    const text = renderSimBench(r);
    expect(text).toContain(r.pinnedCpu === null ? 'NOT pinned' : `pinned to CPU ${r.pinnedCpu}`);
    expect(text).toContain(`target 100,000 events/s: ${r.target.met ? 'met' : 'NOT met'}`);
  });
});
