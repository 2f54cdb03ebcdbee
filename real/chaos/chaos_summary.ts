// The printed summary of a chaos run: mode, operations by type and outcome,
// faults injected, checker verdicts, and where a failing run's files are.

import type { ChaosResult } from './chaos_run.ts';

const verdict = (pass: boolean | null, text: string): string => `${pass === null ? 'UNDECIDED' : pass ? 'pass' : 'FAIL'} ${text}`;

export function formatChaosSummary(r: ChaosResult): string {
  const lines: string[] = [];
  lines.push(`chaos summary: ${r.passed ? 'PASSED' : 'FAILED'} | mode ${r.mode} | seed ${r.seed} | ${r.nodes} nodes, ${r.clients} clients | ${r.durationMs / 1000} s of faults, ${(r.wallMs / 1000).toFixed(1)} s wall`);
  const total = { ok: 0, fail: 0, info: 0 };
  lines.push('  operations        ok   fail   info');
  for (const [k, c] of Object.entries(r.ops).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    lines.push(`    ${k.padEnd(14)}${String(c.ok).padStart(5)}${String(c.fail).padStart(7)}${String(c.info).padStart(7)}`);
    total.ok += c.ok;
    total.fail += c.fail;
    total.info += c.info;
  }
  lines.push(`    ${'total'.padEnd(14)}${String(total.ok).padStart(5)}${String(total.fail).padStart(7)}${String(total.info).padStart(7)}`);
  const faults = Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(`  faults: ${faults === '' ? 'none' : faults}`);
  if (r.restartMs.length > 0) {
    const q = (f: number): number => r.restartMs[Math.min(r.restartMs.length - 1, Math.floor(f * r.restartMs.length))]!;
    lines.push(`  restarts: ${r.restartMs.length}, serving again after ${q(0)} / ${q(0.5)} / ${r.restartMs[r.restartMs.length - 1]} ms (min / median / max, process spawn included)`);
  }
  lines.push(`  liveness: ${r.readPasses} read pass(es) at ALL`);
  lines.push(`  checks: ${verdict(r.checks.linearizable, 'STRONG keys linearizable')}; ${verdict(r.checks.converged, 'replicas converged')}; ` +
    `${verdict(r.checks.lostWrites === 0, `lost writes ${r.checks.lostWrites}`)}; ${verdict(r.checks.invalidReads === 0, `invalid reads ${r.checks.invalidReads}`)}`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  for (const v of r.violations.slice(0, 5)) lines.push(`  violation [${v.check}] ${v.key}: ${v.message.split('\n')[0]}`);
  if (r.violations.length > 5) lines.push(`  ... ${r.violations.length - 5} more violation(s)`);
  if (r.artifacts !== null) lines.push(`  history: ${r.artifacts.history}`, `  html: ${r.artifacts.html}`, `  violations: ${r.artifacts.violations}`);
  if (r.dir !== null) lines.push(`  run directory (configs, data, node logs): ${r.dir}`);
  return lines.join('\n');
}
