// `ringkv bench <name>`: every benchmark measures its comparator in the same
// run and reports ratios, because these machines are shared and noisy.

import { type Command, UsageError } from './command.ts';

type Bench = { name: string; summary: string; run: (args: string[]) => Promise<number> };

// One line per benchmark; each lives in real/bench/.
const BENCHES: Bench[] = [
  { name: 'engine', summary: 'storage engine vs classic-level: db_bench workloads, amplification, bloom, latency [--quick]', run: async (args) => (await import('../bench/engine_bench.ts')).runEngineBenchCommand(args) },
  { name: 'checker', summary: 'linearizability checker on Porcupine\'s etcd histories vs Porcupine\'s recorded time [--reps N]', run: async (args) => (await import('../bench/checker_bench.ts')).runCheckerBenchCommand(args) },
  { name: 'cluster', summary: '3-node local cluster vs Redis: peak ops/s and p50/p99/p999 at half peak, ONE/QUORUM/STRONG [--quick] [--restart] [--clients N]', run: async (args) => (await import('../bench/cluster_bench.ts')).runClusterBenchCommand(args) },
  { name: 'sim', summary: 'simulated events/s and seeds/minute on strong-under-chaos (5 nodes) beside the bare simulator, pinned to one CPU [--seeds N] [--warmup W] [--no-pin]', run: async (args) => (await import('../bench/sim_bench.ts')).runSimBenchCommand(args) },
];

export const command: Command = {
  name: 'bench',
  summary: 'run a benchmark beside its comparator',
  get help() {
    return [
      'usage: ringkv bench <name> [--json]',
      '',
      'benchmarks:',
      ...BENCHES.map((b) => `  ${b.name.padEnd(8)}  ${b.summary}`),
      '',
      '--json prints one JSON object with every figure instead of tables.',
    ].join('\n');
  },
  async run(args) {
    const [name, ...rest] = args;
    const bench = BENCHES.find((b) => b.name === name);
    if (!bench) throw new UsageError(name ? `unknown benchmark '${name}'` : 'which benchmark?');
    return bench.run(rest);
  },
};
