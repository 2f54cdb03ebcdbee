import { describe, expect, it } from 'vitest';
import { type ClusterBenchReport, type WorkloadFigures, renderClusterBench } from './cluster_bench.ts';

function workload(name: string, peak: number, p99Ms: number, cpu: number, stops = 0): WorkloadFigures {
  return {
    workload: name,
    ladder: [{ connections: 16, opsPerSec: peak, errors: 0, serverCpuUsPerOp: cpu, loadCpuUsPerOp: 40 }],
    peakOpsPerSec: peak,
    peakConnections: 16,
    serverCpuUsPerOp: cpu,
    loadCpuUsPerOp: 40,
    rate: peak / 2,
    settledMs: 250,
    settledQuiet: true,
    achievedOpsPerSec: peak / 2,
    p50Ms: p99Ms / 4,
    p99Ms,
    p999Ms: p99Ms * 2,
    errors: 0,
    unsent: 0,
    writeStops: stops,
    writeSlowdowns: 0,
  };
}

function report(quorumMixPeak: number, quorumPutP99: number, redis: boolean, relay = false, durability: ClusterBenchReport['settings']['durability'] = { mode: 'group-commit' }): ClusterBenchReport {
  const levels = ['ONE', 'QUORUM', 'STRONG'].map((level) => ({
    system: 'ringkv' as const,
    level,
    workloads: [workload('put', 5000, level === 'QUORUM' ? quorumPutP99 : 3, 300, level === 'ONE' ? 12 : 0), workload('get', 8000, 2, 200), workload('mix', level === 'QUORUM' ? quorumMixPeak : 6000, 4, 250)],
  }));
  return {
    machine: { cpus: 2, loadAverage: [1, 1, 1] },
    settings: { keys: 100, ladder: [16], stepMs: 100, openMs: 100, warmupMs: 10, jitWarmupMs: 10, clients: 2, valueBytes: 1024, nodes: 3, durability },
    ringkv: levels,
    redis: redis ? { system: 'redis', level: null, version: '7.0.15', workloads: [workload('put', 20000, 1, 15), workload('get', 40000, 0.5, 10), workload('mix', 25000, 0.8, 12)] } : null,
    redisMissing: redis ? null : 'redis-server is not installed; install it with `apt-get install redis-server` to compare against Redis',
    relay: relay ? { system: 'relay', level: null, workloads: [workload('put', 10000, 2, 100), workload('get', 16000, 1, 50), workload('mix', 15000, 1.5, 125)] } : null,
    targets: {
      quorumP99Ms: { put: quorumPutP99, get: 2, limit: 5, met: quorumPutP99 < 5 && 2 < 5 },
      quorumMixOpsPerSec: { value: quorumMixPeak, limit: 10_000, met: quorumMixPeak >= 10_000 },
    },
    restart: null,
  };
}

describe('cluster bench report', () => {
  it('prints each ringkv figure with its ratio to Redis', () => {
    const text = renderClusterBench(report(12_000, 3, true));
    const quorumPut = text.split('\n').find((l) => /ringkv\s+QUORUM\s+put/.test(l))!;
    // 5,000 / 20,000 ops/s; 300 / 15 us of CPU; 40 us of generator CPU; p99 3 / 1 ms
    expect(quorumPut).toMatch(/5,000\s+16\s+0\.25x\s+300\s+20\.00x\s+40\s+\|\s+2,500\/s\s+0\.75\s+3\.00\s+6\.00\s+3\.00x/);
    expect(text).toContain('Redis 7.0.15 (appendfsync everysec)');
    expect(text).toContain('group commit: fsync per write batch');
    expect(text).toMatch(/QUORUM p99 at half peak < 5 ms: put 3\.00, get 2\.00 -> met/);
    expect(text).toMatch(/QUORUM 50\/50 peak >= 10,000 ops\/s: 12,000 -> met/);
    expect(text).toContain('ringkv write stalls (all nodes; stops: writes that found an engine stopped, slowdowns: 1 ms delays of its write queue): ONE put 12 stops, 0 slowdowns');
  });

  it('says when a target is missed, and prints ringkv alone without Redis', () => {
    const text = renderClusterBench(report(9_000, 7, false));
    expect(text).toMatch(/put 7\.00, get 2\.00 -> NOT met/);
    expect(text).toMatch(/9,000 -> NOT met/);
    expect(text).toContain('apt-get install redis-server');
    expect(text).not.toMatch(/^\s+redis\s/m);
    expect(text.split('\n').filter((l) => /^\s+ringkv\s/.test(l))).toHaveLength(9);
    expect(text).not.toMatch(/\d\.\d\dx/);
    expect(text).not.toContain('vs the relay');
  });

  it('gives ringkv QUORUM as a fraction of the relay ceiling', () => {
    const text = renderClusterBench(report(6_000, 3, true, true));
    // put 5,000 / 10,000 ops/s and 300 / 100 us; get 8,000 / 16,000 and 200 / 50; mix 6,000 / 15,000 and 250 / 125
    expect(text).toMatch(/QUORUM vs the relay .*: put 0\.50x ops\/s, 3\.00x CPU\/op; get 0\.50x ops\/s, 4\.00x CPU\/op; mix 0\.40x ops\/s, 2\.00x CPU\/op/);
    const relayMix = text.split('\n').find((l) => /^\s+relay\s+-\s+mix/.test(l))!;
    // the relay's own row, with its ratio to Redis: 15,000 / 25,000 ops/s
    expect(relayMix).toMatch(/15,000\s+16\s+0\.60x/);
  });

  it('says which durability the nodes ran with', () => {
    const text = renderClusterBench(report(6_000, 3, true, false, { mode: 'periodic', syncIntervalMs: 100 }));
    expect(text.split('\n')[0]).toContain('periodic fsync every 100 ms');
    expect(text).not.toContain('group commit');
  });
});
