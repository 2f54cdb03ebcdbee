// `npm run test:chaos`: the long form of the fault-injected test on real
// processes (chaos_run.ts). Settings from flags or the environment:
//   --duration SECONDS  RINGKV_CHAOS_DURATION_S   faults for this long (default 60, at least 1)
//   --seed N            RINGKV_CHAOS_SEED         the nemesis' and clients' choices (default random)
//   --mode M            RINGKV_CHAOS_MODE         auto (default), netns or loopback
//   --clients N         RINGKV_CHAOS_CLIENTS      concurrent clients (default 6)
//   --keep              RINGKV_CHAOS_KEEP=1       keep the run directory even when it passes
// Prints the summary; exits 0 when every check passes, 1 otherwise, 2 on bad usage.

import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runChaos } from './chaos_run.ts';
import { formatChaosSummary } from './chaos_summary.ts';

function main(argv: string[]): Promise<number> | number {
  const { values } = parseArgs({
    args: argv,
    options: { duration: { type: 'string' }, seed: { type: 'string' }, mode: { type: 'string' }, clients: { type: 'string' }, keep: { type: 'boolean' } },
    strict: true,
  });
  const env = process.env;
  const duration = Number(values.duration ?? env.RINGKV_CHAOS_DURATION_S ?? 60);
  const seed = Number(values.seed ?? env.RINGKV_CHAOS_SEED ?? randomInt(1, 2 ** 31));
  const mode = values.mode ?? env.RINGKV_CHAOS_MODE ?? 'auto';
  const clients = Number(values.clients ?? env.RINGKV_CHAOS_CLIENTS ?? 6);
  const usage = (msg: string): number => {
    console.error(`test:chaos: ${msg}`);
    return 2;
  };
  if (!Number.isFinite(duration) || duration < 1) return usage('the duration must be a number of seconds >= 1');
  if (!Number.isSafeInteger(seed)) return usage('the seed must be an integer');
  if (mode !== 'auto' && mode !== 'netns' && mode !== 'loopback') return usage('the mode must be auto, netns or loopback');
  if (!Number.isSafeInteger(clients) || clients < 1) return usage('clients must be an integer >= 1');
  return runChaos({ durationMs: duration * 1000, seed, mode, clients, keep: values.keep === true || env.RINGKV_CHAOS_KEEP === '1' }).then((result) => {
    console.log(formatChaosSummary(result));
    return result.passed ? 0 : 1;
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error(`test:chaos: ${(err as Error).message}`);
  process.exitCode = 2;
}
