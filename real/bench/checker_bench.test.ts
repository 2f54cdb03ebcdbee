import { describe, expect, it } from 'vitest';
import { renderCheckerBench, runCheckerBench } from './checker_bench.ts';

describe('checker bench', () => {
  it('checks every etcd history, agrees with Porcupine and reports the slowest', () => {
    const r = runCheckerBench(2);
    expect(r.histories).toBeGreaterThan(50);
    expect(r.disagree).toEqual([]);
    expect(r.agree).toBe(r.histories);
    expect(r.notLinearizable).toBeGreaterThan(0);
    expect(r.porcupine.seconds).toBeGreaterThan(0);
    const medians = r.slowest.map((f) => f.medianMs);
    expect(medians).toEqual([...medians].sort((a, b) => b - a));
    expect(r.totalMedianMs).toBeGreaterThan(0);
    const text = renderCheckerBench(r);
    expect(text).toContain(`verdicts: ${r.histories}/${r.histories} agree with Porcupine`);
    expect(text).toContain(r.slowest[0]!.file);
  });
});
