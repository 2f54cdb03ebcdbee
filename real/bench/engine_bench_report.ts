// The engine benchmark's figures, the targets they are held to, and their
// rendering as text tables. Targets are goals shown as PASS/MISS next to the
// figures, not assertions: a slow, shared machine is not a failing build.

import type { WorkloadName, WorkloadResult } from './engine_workloads.ts';

export interface CaseRow {
  workload: WorkloadName;
  valueBytes: number;
  inFlight: number;
  /** Each write acknowledged only after fsync (ringkv: syncWrites, group commit; classic-level: sync: true). */
  durable: boolean;
  /** Each store's median round (by ops/s). */
  ringkv: WorkloadResult;
  classicLevel: WorkloadResult;
  /** Median over the rounds of ringkv ops/s over classic-level ops/s in the same round (bench_rounds.ts). */
  ratio: number;
  /** That ratio in each round, in round order. */
  ratios: number[];
  /** Median over the rounds of classic-level's CPU time per op over ringkv's (bench_rounds.ts). */
  cpuRatio: number;
}

export interface CompactionFigures {
  strategy: 'leveled' | 'tiered';
  keys: number;
  valueBytes: number;
  memtableBytes: number;
  l1TargetBytes: number;
  /** Live data: keys x (key + value) bytes. */
  liveBytes: number;
  /** After the workload and a flush, compaction having run in the background as it would. */
  atEnd: { writeAmplification: number; diskBytes: number; spaceAmplification: number; engineSpaceAmplification: number; tablesPerLevel: number[] };
  /** After compactAll: every byte the workload will ever cost, and the settled shape. */
  settled: { writeAmplification: number; diskBytes: number; spaceAmplification: number; engineSpaceAmplification: number; tablesPerLevel: number[] };
  compactionsRun: number;
  flushesRun: number;
}

export interface BloomFigures {
  /** Filter probes during every readmissing run (keys that were never written). */
  checks: number;
  negatives: number;
  falsePositives: number;
  falsePositiveRate: number;
}

export interface LatencySummary {
  samples: number;
  p50Micros: number;
  p99Micros: number;
  maxMicros: number;
}

export interface ReadLatencyFigures {
  /** Overlapping level-0 tables the measured compaction merged. */
  level0Tables: number;
  /** The get call itself, timed with process.hrtime, one per event-loop turn. */
  idle: LatencySummary;
  compacting: LatencySummary;
  /** compacting p99 / idle p99 of the get call (the target). */
  p99Ratio: number;
  /**
   * As a client of the event loop sees it: from issuing the read to its answer
   * on the loop's next turn, so a compaction step queued ahead is waited for.
   */
  queued: { idle: LatencySummary; compacting: LatencySummary; p99Ratio: number };
  /** The engine's bound on one compaction step (compactionStepMs): what a queued read may wait behind. */
  compactionStepMs: number;
  /** Bytes the compaction wrote while the samples were taken. */
  compactionBytesWritten: number;
}

export interface Target {
  name: string;
  value: number;
  goal: string;
  pass: boolean;
}

export interface EngineBenchReport {
  quick: boolean;
  seconds: number;
  /** Rounds of every store comparison (the stores alternating); each case reports the median. */
  rounds: number;
  cases: CaseRow[];
  compaction: CompactionFigures[];
  bloom: BloomFigures;
  readLatency: ReadLatencyFigures;
  targets: Target[];
}

function findCase(cases: CaseRow[], workload: WorkloadName, valueBytes: number, inFlight: number, durable: boolean): CaseRow | undefined {
  return cases.find((c) => c.workload === workload && c.valueBytes === valueBytes && c.inFlight === inFlight && c.durable === durable);
}

/** The targets, evaluated against the measured figures. */
export function evaluateTargets(report: Omit<EngineBenchReport, 'targets'>): Target[] {
  const targets: Target[] = [];
  const ratio = (w: WorkloadName, v: number, f: number, min: number) => {
    const c = findCase(report.cases, w, v, f, false);
    if (c) targets.push({ name: `${w} ${v} B x${f} vs classic-level`, value: c.ratio, goal: `>= ${min}x`, pass: c.ratio >= min });
  };
  ratio('fillrandom', 100, 1, 3);
  ratio('readrandom', 100, 1, 3);
  ratio('fillrandom', 100, 64, 1);
  ratio('readrandom', 100, 64, 1);
  const group = findCase(report.cases, 'fillrandom', 1024, 64, true);
  if (group) {
    const ops = group.ringkv.opsPerSec;
    targets.push({ name: 'durable fillrandom 1 KiB x64 (group commit)', value: ops, goal: '>= 20000 writes/s', pass: ops >= 20_000 });
  }
  const fp = report.bloom.falsePositiveRate;
  targets.push({ name: 'bloom false-positive rate', value: fp, goal: '<= 1.2%', pass: fp <= 0.012 });
  const p99 = report.readLatency.p99Ratio;
  targets.push({ name: 'readrandom p99 compacting / idle', value: p99, goal: '<= 2x', pass: p99 <= 2 });
  // What a client sees: a read issued while a step runs waits for it, so the
  // bound is about one step (compactionStepMs) plus the read, not a ratio to
  // an idle loop (tens of microseconds).
  const queued = report.readLatency.queued.compacting.p99Micros;
  const queuedGoal = 2 * report.readLatency.compactionStepMs * 1000;
  targets.push({ name: 'queued readrandom p99 while compacting (us)', value: queued, goal: `<= ${queuedGoal} us (2 compaction steps)`, pass: queued <= queuedGoal });
  const wa = (s: string) => report.compaction.find((c) => c.strategy === s)?.settled.writeAmplification;
  const leveled = wa('leveled');
  const tiered = wa('tiered');
  if (leveled !== undefined && tiered !== undefined) {
    targets.push({ name: 'write amplification tiered / leveled', value: tiered / leveled, goal: '< 1', pass: tiered < leveled });
  }
  return targets;
}

function table(header: string[], rows: string[][], rightAlignFrom = 0): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const fixed = (x: number, d = 2) => x.toFixed(d);
const kib = (x: number) => (x >= 1024 * 1024 ? `${fixed(x / 1024 / 1024, 0)} MiB` : `${fixed(x / 1024, 0)} KiB`);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function passMark(report: EngineBenchReport, row: CaseRow): string {
  const t = report.targets.find((t) => t.name.startsWith(`${row.workload} ${row.valueBytes} B x${row.inFlight} vs`) && !row.durable);
  if (t) return `${t.pass ? 'PASS' : 'MISS'} (${t.goal})`;
  if (row.durable && row.workload === 'fillrandom' && row.valueBytes === 1024 && row.inFlight === 64) {
    const g = report.targets.find((t) => t.name.startsWith('durable fillrandom'));
    if (g) return `${g.pass ? 'PASS' : 'MISS'} (ringkv ${g.goal})`;
  }
  return '';
}

function targetMark(t: Target | undefined): string {
  return t ? `${t.pass ? 'PASS' : 'MISS'} (${t.goal})` : '';
}

export function renderReport(report: EngineBenchReport): string {
  const out: string[] = [];
  out.push(`ringkv bench engine${report.quick ? ' --quick (smoke run: figures are not meaningful)' : ''}`);
  out.push(
    report.rounds > 1
      ? `ops/s per workload (each store's median of ${report.rounds} rounds, the stores taking turns to go first); ratio = median over the rounds of ringkv / classic-level in the same round, range = lowest and highest round; cpu ratio = classic-level's process CPU time per op / ringkv's (median of the rounds; above 1, ringkv did less work per op); durable = each write acknowledged after fsync`
      : 'ops/s per workload (one round); ratio = ringkv / classic-level; cpu ratio = classic-level CPU time per op / ringkv\'s; durable = each write acknowledged after fsync',
  );
  out.push('');
  const range = (c: CaseRow) => `${fixed(Math.min(...c.ratios))}-${fixed(Math.max(...c.ratios))}`;
  out.push(
    table(
      ['workload', 'value', 'in flight', 'durable', 'ops', 'ringkv ops/s', 'classic-level ops/s', 'ratio', 'range', 'cpu ratio', 'target'],
      report.cases.map((c) => [
        c.workload,
        `${c.valueBytes} B`,
        String(c.inFlight),
        c.durable ? 'fsync' : 'no',
        int(c.ringkv.ops),
        int(c.ringkv.opsPerSec),
        int(c.classicLevel.opsPerSec),
        `${fixed(c.ratio)}x`,
        range(c),
        `${fixed(c.cpuRatio)}x`,
        passMark(report, c),
      ]),
      4,
    ),
  );
  out.push('');
  const first = report.compaction[0];
  out.push(
    first
      ? `compaction strategies (ringkv): fillrandom + overwrite of ${int(first.keys)} keys, ${first.valueBytes} B values, memtable ${kib(first.memtableBytes)}, level 1 ${kib(first.l1TargetBytes)}; space amp = bytes on disk / live bytes (tables are LZ4-compressed and values half zeros, so below 1 is possible); settled = after compactAll`
      : 'compaction strategies: none measured',
  );
  const wa = report.targets.find((t) => t.name.startsWith('write amplification'));
  out.push(
    table(
      ['strategy', 'write amp', 'space amp', 'write amp (settled)', 'space amp (settled)', 'engine space amp', 'tables per level (settled)', 'compactions'],
      report.compaction.map((c) => [
        c.strategy,
        fixed(c.atEnd.writeAmplification),
        fixed(c.atEnd.spaceAmplification),
        fixed(c.settled.writeAmplification),
        fixed(c.settled.spaceAmplification),
        fixed(c.settled.engineSpaceAmplification),
        c.settled.tablesPerLevel.join('/'),
        String(c.compactionsRun),
      ]),
      1,
    ),
  );
  out.push(`write amplification tiered < leveled: ${targetMark(wa)}`);
  out.push('');
  const b = report.bloom;
  out.push(
    `bloom filter (readmissing): ${int(b.checks)} probes, ${int(b.falsePositives)} false positives, rate ${pct(b.falsePositiveRate)}  ${targetMark(
      report.targets.find((t) => t.name.startsWith('bloom')),
    )}`,
  );
  out.push('');
  const l = report.readLatency;
  out.push(`readrandom latency in microseconds, idle vs while ${l.level0Tables} overlapping level-0 tables compact`);
  const latencyRow = (what: string, x: LatencySummary) => [what, int(x.samples), fixed(x.p50Micros, 1), fixed(x.p99Micros, 1), fixed(x.maxMicros, 1)];
  out.push(
    table(
      ['measured', 'samples', 'p50 us', 'p99 us', 'max us'],
      [
        latencyRow('get call, idle', l.idle),
        latencyRow('get call, compacting', l.compacting),
        latencyRow('queued, idle', l.queued.idle),
        latencyRow('queued, compacting', l.queued.compacting),
      ],
      1,
    ),
  );
  out.push(`get call p99 compacting / idle: ${fixed(l.p99Ratio)}x  ${targetMark(report.targets.find((t) => t.name.startsWith('readrandom p99')))}`);
  out.push(`queued p99 compacting / idle: ${fixed(l.queued.p99Ratio)}x (queued = issued, then served on the next event-loop turn, behind any compaction step)`);
  out.push(
    `queued p99 while compacting: ${fixed(l.queued.compacting.p99Micros, 1)} us, max ${fixed(l.queued.compacting.maxMicros, 1)} us (step bound ${l.compactionStepMs} ms)  ${targetMark(
      report.targets.find((t) => t.name.startsWith('queued readrandom p99')),
    )}`,
  );
  out.push('');
  const met = report.targets.filter((t) => t.pass).length;
  out.push(`targets: ${met} of ${report.targets.length} met${report.quick ? ' (smoke run)' : ''}`);
  for (const t of report.targets) {
    const shown = t.name.startsWith('bloom') ? pct(t.value) : t.value >= 1000 ? int(t.value) : fixed(t.value);
    out.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${shown} (goal ${t.goal})`);
  }
  out.push(`total ${fixed(report.seconds, 1)} s`);
  return out.join('\n');
}
