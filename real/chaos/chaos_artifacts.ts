// What a failing chaos run leaves for a person to read, in its directory:
//   history.ringkv   every client operation, `ringkv` history format (sim/history.ts),
//                    times in ms since the run began
//   history.html     the keys with violations drawn as Porcupine does (sim/checkers/history_html.ts)
//   violations.txt   every violation, the fault log and the problems
//   summary.json     the ChaosResult

import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeHistory } from '../../sim/history.ts';
import { type HistorySection, renderHistoryHtml } from '../../sim/checkers/history_html.ts';
import { checkKey, splitByKey } from '../../sim/checkers/linearizability.ts';
import { explainViolation } from '../../sim/checkers/linearizability_explanation.ts';
import { type ClientOp, historyKey, toHistory } from '../../sim/client_op.ts';
import type { ChaosResult } from './chaos_run.ts';
import { formatChaosSummary } from './chaos_summary.ts';

const MAX_HTML_KEYS = 8;
/** Bounds the searches that draw a page (the verdict came earlier, under its own budget). */
const SEARCH_STEPS = 5_000_000;

export function writeChaosArtifacts(
  dir: string,
  result: ChaosResult,
  ops: readonly ClientOp[],
  strongKeys: ReadonlySet<string>,
): { history: string; html: string; violations: string } {
  const history = toHistory(ops);
  const files = { history: path.join(dir, 'history.ringkv'), html: path.join(dir, 'history.html'), violations: path.join(dir, 'violations.txt') };
  fs.writeFileSync(files.history, encodeHistory(history));

  const byKey = splitByKey(history);
  const flagged = [...new Set(result.violations.map((v) => v.key).filter((k) => byKey.has(k)))];
  const shown = (flagged.length > 0 ? flagged : [...byKey.keys()]).slice(0, MAX_HTML_KEYS);
  const strong = new Set([...strongKeys].map((k) => historyKey(ops[0]?.keyspace ?? 'default', k)));
  const sections: HistorySection[] = shown.map((key) => {
    const idx = byKey.get(key)!;
    if (!strong.has(key)) return { key, ops: idx, linearization: [], violation: null };
    const violation = explainViolation(history, key, { maxSteps: SEARCH_STEPS });
    if (violation !== null) return { key, ops: idx, linearization: violation.longest, violation };
    return { key, ops: idx, linearization: checkKey(idx.map((i) => history[i]!), { maxSteps: SEARCH_STEPS }).longest.map((j) => idx[j]!), violation: null };
  });
  const subtitle = result.passed ? 'every check passed' : `failed: ${result.violations.length} violation(s), ${result.problems.length} problem(s)`;
  const details = [formatChaosSummary(result), '', ...result.violations.map((v) => `[${v.check}] ${v.key}: ${v.message}`)].join('\n');
  fs.writeFileSync(files.html, renderHistoryHtml({ title: `ringkv chaos run, seed ${result.seed} (${result.mode})`, subtitle, details, history, sections }));

  const text = [
    formatChaosSummary(result),
    '',
    'violations:',
    ...result.violations.map((v) => `  [${v.check}] ${v.key}: ${v.message}`),
    'problems:',
    ...result.problems.map((p) => `  ${p}`),
    'faults:',
    ...result.faultLog.map((f) => `  ${f}`),
  ].join('\n');
  fs.writeFileSync(files.violations, text + '\n');
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...result, artifacts: files, dir }, null, 2) + '\n');
  return files;
}
