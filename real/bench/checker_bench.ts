// `ringkv bench checker`: checks every Jepsen etcd history of Porcupine's test
// data several times in one process, and reports the median total (parse +
// check, as Porcupine's own timing includes parsing), the slowest files,
// memory, agreement with Porcupine's verdicts, and Porcupine's recorded time
// on this machine (Go is not run here; its figure is in the folder's README).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parseJepsenHistory } from '../../sim/checkers/jepsen_history_parser.ts';
import { checkLinearizability, type Verdict } from '../../sim/checkers/linearizability.ts';
import { explainViolation } from '../../sim/checkers/linearizability_explanation.ts';
import { integerFlag, parseFlags, UsageError } from '../cli/command.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
export const ETCD_HISTORIES = join(repoRoot, '..', 'shared', 'histories', 'porcupine-etcd');
const DEFAULT_REPS = 9;
const SLOWEST = 8;
const TARGET_MS = 500;

interface FileFigures {
  file: string;
  operations: number;
  verdict: Verdict;
  expected: Verdict;
  steps: number;
  medianMs: number;
  maxMs: number;
}

export interface CheckerBenchReport {
  histories: number;
  repetitions: number;
  totalMedianMs: number;
  totalMinMs: number;
  totalFirstRunMs: number;
  targetMs: number;
  agree: number;
  disagree: string[];
  notLinearizable: number;
  explainAllMs: number;
  porcupine: { seconds: number | null; histories: number | null; source: string };
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  slowest: FileFigures[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const ms = (x: number) => Math.round(x * 100) / 100;

/** Porcupine's recorded figure, e.g. "checks all 102 etcd histories ... in 0.72 s". */
function porcupineReference(dir: string): CheckerBenchReport['porcupine'] {
  const source = join(dir, 'README.md');
  let text: string;
  try {
    text = readFileSync(source, 'utf8').replace(/\s+/g, ' ');
  } catch {
    return { seconds: null, histories: null, source };
  }
  const seconds = /in (\d+(?:\.\d+)?) s\b/.exec(text);
  const count = /all (\d+) etcd histories/.exec(text);
  return { seconds: seconds ? Number(seconds[1]) : null, histories: count ? Number(count[1]) : null, source };
}

export function runCheckerBench(reps: number, dir = ETCD_HISTORIES): CheckerBenchReport {
  const expected = new Map<string, Verdict>(
    readFileSync(join(dir, 'verdicts.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'))
      .map(([f, v]) => [f!, v === 'illegal' ? 'not-linearizable' : 'linearizable']),
  );
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
  const times = files.map(() => [] as number[]);
  const results = files.map(() => ({ verdict: 'unknown' as Verdict, steps: 0, operations: 0 }));
  const totals: number[] = [];
  let peakHeap = 0;
  for (let rep = 0; rep < reps; rep++) {
    let total = 0;
    files.forEach((f, i) => {
      const t0 = performance.now();
      const history = parseJepsenHistory(f.text);
      const result = checkLinearizability(history);
      const dt = performance.now() - t0;
      total += dt;
      times[i]!.push(dt);
      results[i] = { verdict: result.verdict, steps: result.steps, operations: history.length };
      if (rep === 0) peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    });
    totals.push(total);
  }
  // Explanations are extra work done only for a violation; timed once, apart.
  const t0 = performance.now();
  for (const f of files) {
    if (expected.get(f.name) !== 'not-linearizable') continue;
    explainViolation(parseJepsenHistory(f.text), 'r');
  }
  const explainAllMs = performance.now() - t0;
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);

  const figures: FileFigures[] = files.map((f, i) => ({
    file: f.name,
    operations: results[i]!.operations,
    verdict: results[i]!.verdict,
    expected: expected.get(f.name) ?? 'unknown',
    steps: results[i]!.steps,
    medianMs: ms(median(times[i]!)),
    maxMs: ms(Math.max(...times[i]!)),
  }));
  const disagree = figures.filter((f) => f.verdict !== f.expected).map((f) => f.file);
  return {
    histories: files.length,
    repetitions: reps,
    totalMedianMs: ms(median(totals)),
    totalMinMs: ms(Math.min(...totals)),
    totalFirstRunMs: ms(totals[0]!),
    targetMs: TARGET_MS,
    agree: files.length - disagree.length,
    disagree,
    notLinearizable: figures.filter((f) => f.verdict === 'not-linearizable').length,
    explainAllMs: ms(explainAllMs),
    porcupine: porcupineReference(dir),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    peakHeapUsedMiB: mib(peakHeap),
    slowest: [...figures].sort((a, b) => b.medianMs - a.medianMs).slice(0, SLOWEST),
  };
}

export function renderCheckerBench(r: CheckerBenchReport): string {
  const p = r.porcupine;
  const lines = [
    `checker: ${r.histories} Jepsen etcd histories (Porcupine's test data), ${r.repetitions} repetitions in one process`,
    `verdicts: ${r.agree}/${r.histories} agree with Porcupine (${r.notLinearizable} not linearizable)${r.disagree.length ? `; DISAGREE: ${r.disagree.join(', ')}` : ''}`,
    `total, parse + check, all files: median ${r.totalMedianMs.toFixed(1)} ms, best ${r.totalMinMs.toFixed(1)} ms, first (cold) run ${r.totalFirstRunMs.toFixed(1)} ms; target <= ${r.targetMs} ms`,
    p.seconds !== null
      ? `Porcupine (Go), recorded on this machine: ${(p.seconds * 1000).toFixed(0)} ms wall time for its whole test binary (${p.histories ?? '?'} etcd histories, ` +
        `startup included); not the same measure as ours, which is in-process on ${r.histories}: ${((p.seconds * 1000) / r.totalMedianMs).toFixed(1)}x vs our median, ` +
        `${((p.seconds * 1000) / r.totalFirstRunMs).toFixed(1)}x vs our cold first run`
      : `Porcupine reference: not found in ${p.source}`,
    `explaining all ${r.notLinearizable} violations (shortest failing prefix, longest linearization), once: ${r.explainAllMs.toFixed(1)} ms`,
    `memory: peak RSS ${r.peakRssMiB} MiB, peak heap used (sampled per file) ${r.peakHeapUsedMiB} MiB`,
    `slowest files (median of ${r.repetitions}):`,
    ...r.slowest.map(
      (f) => `  ${f.file.padEnd(14)} ${f.medianMs.toFixed(2).padStart(8)} ms  (max ${f.maxMs.toFixed(2)})  ${String(f.steps).padStart(8)} steps  ${String(f.operations).padStart(4)} ops  ${f.verdict}`,
    ),
  ];
  return lines.join('\n');
}

export async function runCheckerBenchCommand(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, { booleans: ['json'], strings: ['reps'] });
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const reps = integerFlag(flags, 'reps', DEFAULT_REPS, { min: 1 });
  const report = runCheckerBench(reps);
  process.stdout.write(flags.has('json') ? `${JSON.stringify(report, null, 2)}\n` : `${renderCheckerBench(report)}\n`);
  return report.disagree.length === 0 ? 0 : 1;
}
