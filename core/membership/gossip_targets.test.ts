import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimRng } from '../../sim/sim_rng.ts';
import { chooseGossipTargets, sampleDistinct } from './gossip_targets.ts';

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('gossip targets', () => {
  it('property: a sample is distinct, drawn from the items, and as large as asked or as the items allow', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(), { maxLength: 30 }), fc.nat(40), fc.string(), (items, count, seed) => {
        const sample = sampleDistinct(new SimRng(seed), items, count);
        expect(sample.length).toBe(Math.min(count, items.length));
        expect(new Set(sample).size).toBe(sample.length);
        for (const x of sample) expect(items).toContain(x);
      }),
    );
  });

  it('property: targets are distinct, known or seeds, and include fanout live members when there are that many', () => {
    fc.assert(
      fc.property(fc.nat(20), fc.nat(20), fc.nat(4), fc.integer({ min: 1, max: 3 }), fc.string(), (l, u, s, fanout, seed) => {
        const live = names('l', l);
        const unreachable = names('u', u);
        const seeds = [...names('s', s), ...live.slice(0, 1)];
        const targets = chooseGossipTargets(new SimRng(seed), { live, unreachable, seeds }, fanout);
        expect(new Set(targets).size).toBe(targets.length);
        for (const t of targets) expect([...live, ...unreachable, ...seeds]).toContain(t);
        expect(targets.filter((t) => live.includes(t)).length).toBeGreaterThanOrEqual(Math.min(fanout, live.length));
        if (live.length === 0 && seeds.length > 0) expect(targets.some((t) => seeds.includes(t))).toBe(true);
      }),
    );
  });

  it('probes an unreachable member with probability unreachable / (live + 1)', () => {
    const rng = new SimRng('probe');
    const live = names('l', 9);
    const unreachable = names('u', 3);
    let probes = 0;
    const rounds = 20_000;
    for (let i = 0; i < rounds; i++) if (chooseGossipTargets(rng, { live, unreachable, seeds: [] }, 1).some((t) => t.startsWith('u'))) probes++;
    expect(probes / rounds).toBeCloseTo(3 / 10, 1);
  });

  it('two halves that see each other as unreachable probe across nearly every round', () => {
    const rng = new SimRng('halves');
    let across = 0;
    for (let i = 0; i < 1000; i++) if (chooseGossipTargets(rng, { live: names('a', 9), unreachable: names('b', 10), seeds: [] }, 1).some((t) => t.startsWith('b'))) across++;
    expect(across).toBe(1000);
  });

  it('talks to a seed now and then even when the live members include none', () => {
    const rng = new SimRng('seeds');
    let seeded = 0;
    const rounds = 20_000;
    for (let i = 0; i < rounds; i++) if (chooseGossipTargets(rng, { live: names('l', 20), unreachable: [], seeds: ['s0', 's1'] }, 1).some((t) => t.startsWith('s'))) seeded++;
    expect(seeded / rounds).toBeCloseTo(2 / 20, 1);
  });
});
