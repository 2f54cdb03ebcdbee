// `ringkv check`: is a recorded history linearizable? Reads Jepsen etcd logs
// or ringkv's own history files, checks each key, explains a violation in
// text (and, with --html, as a drawing), and says so in its exit code.

import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type History, HistoryFormatError, decodeHistory } from '../../sim/history.ts';
import { type HistorySection, renderHistoryHtml } from '../../sim/checkers/history_html.ts';
import { parseJepsenHistory } from '../../sim/checkers/jepsen_history_parser.ts';
import { type CheckOptions, type CheckResult, checkKey, checkLinearizability, splitByKey } from '../../sim/checkers/linearizability.ts';
import { explainViolation, formatOp, formatViolation, type Violation } from '../../sim/checkers/linearizability_explanation.ts';
import { MODEL_NAMES, type ModelName, modelAccepts } from '../../sim/checkers/register_model.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

const FORMATS = ['jepsen', 'ringkv'] as const;
type Format = (typeof FORMATS)[number];

export const EXIT_LINEARIZABLE = 0;
export const EXIT_NOT_LINEARIZABLE = 1;
export const EXIT_UNDECIDED = 2;

const DEFAULT_TIMEOUT_S = 60;
/** Keys drawn in the page of a linearizable history, at most. */
const MAX_HTML_KEYS = 20;
/** Operations of the longest linearization printed in text, at most (JSON and HTML have all). */
const MAX_TEXT_LINEARIZATION = 40;

const HELP = `usage: ringkv check --format jepsen|ringkv FILE [--json] [--html OUT]
                    [--model cas-register|register] [--timeout SECONDS] [--max-steps N]

Checks that a history of single-key register operations is linearizable
(Wing-Gong-Lowe search with memoisation, each key on its own).

formats:
  jepsen  Jepsen's etcd log, as in Porcupine's test data: one event a line,
          "INFO  jepsen.util - PROC :invoke|:ok|:fail|:info :read|:write|:cas VALUE"
          (VALUE nil, an integer, or [from to] for cas). One register; :info
          and operations still open at the end have an unknown outcome; a
          :fail cas means its compare failed (etcd). Times are line numbers.
  ringkv  the history files the simulator writes: JSON lines, a header
          {"format":"ringkv-history","version":1}, then one operation a line:
          {"process":3,"key":"k1","kind":"read|write|delete|cas",
           "expected":"v1" (cas only),"value":"v2"|null,"call":1200,
           "return":1350|null,"outcome":"ok|fail|info"}
          (documented in full in sim/history.ts).

options:
  --json          print one JSON object instead of text
  --html OUT      write a self-contained page drawing the history per process,
                  the failing operation marked
  --model NAME    cas-register (default: read, write, delete, cas) or register
                  (read, write, delete)
  --timeout S     give up after S seconds (default ${DEFAULT_TIMEOUT_S}) with exit code 2
  --max-steps N   give up after N search steps with exit code 2

exit codes: 0 linearizable, 1 not linearizable, 2 unreadable input or budget
exhausted (with a one-line reason on stderr).`;

function readHistory(format: Format, text: string): History {
  return format === 'jepsen' ? parseJepsenHistory(text) : decodeHistory(text);
}

function positiveNumber(flag: string, raw: string | true | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isSafeInteger(n))) {
    throw new UsageError(`--${flag} needs a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

function opJson(history: History, i: number, extra: Record<string, unknown> = {}) {
  const op = history[i]!;
  return { index: i + 1, process: op.process, kind: op.kind, expected: op.expected, value: op.value, call: op.call, return: op.ret, outcome: op.outcome, text: formatOp(history, i), ...extra };
}

function violationJson(history: History, v: Violation) {
  return {
    key: v.key,
    prefixEvents: v.prefixEvents,
    totalEvents: v.events.length,
    failingOp: opJson(history, v.failingOp),
    longestLinearization: v.longest.map((i) => opJson(history, i)),
    stateAfterLongest: v.stateAfterLongest,
    unplaced: v.unplaced.map((u) => opJson(history, u.op, { reason: u.reason })),
  };
}

function violationText(history: History, v: Violation): string {
  if (v.longest.length <= MAX_TEXT_LINEARIZATION) return formatViolation(history, v);
  // Keep the end of a long linearization: that is where it got stuck.
  const cut = v.longest.length - MAX_TEXT_LINEARIZATION;
  const lines = formatViolation(history, v).split('\n');
  const first = lines.findIndex((l) => l.startsWith('longest linearization')) + 1;
  lines.splice(first, cut, `  ... ${cut} earlier operations (all of them in --json and --html)`);
  return lines.join('\n');
}

function htmlSections(history: History, result: CheckResult, violation: Violation | null, options: CheckOptions): HistorySection[] {
  const byKey = splitByKey(history);
  if (violation !== null) {
    return [{ key: violation.key, ops: byKey.get(violation.key)!, linearization: violation.longest, violation }];
  }
  return [...byKey.entries()].slice(0, MAX_HTML_KEYS).map(([key, ops]) => {
    const linearization = result.verdict === 'linearizable' ? checkKey(ops.map((i) => history[i]!), options).longest.map((j) => ops[j]!) : [];
    return { key, ops, linearization, violation: null };
  });
}

export const command: Command = {
  name: 'check',
  summary: 'check a recorded history for linearizability (jepsen etcd logs or ringkv histories)',
  help: HELP,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['json'], strings: ['format', 'html', 'model', 'timeout', 'max-steps'] });
    const format = flags.get('format');
    if (format === undefined) throw new UsageError('--format jepsen|ringkv is required');
    if (!FORMATS.includes(format as Format)) throw new UsageError(`unknown format '${String(format)}' (jepsen or ringkv)`);
    if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'which FILE?' : 'one FILE at a time');
    const model = (flags.get('model') ?? 'cas-register') as ModelName;
    if (!MODEL_NAMES.includes(model)) throw new UsageError(`unknown model '${String(model)}' (${MODEL_NAMES.join(' or ')})`);
    const timeoutS = positiveNumber('timeout', flags.get('timeout'), false) ?? DEFAULT_TIMEOUT_S;
    const maxSteps = positiveNumber('max-steps', flags.get('max-steps'), true);
    const json = flags.has('json');
    const htmlOut = flags.get('html') as string | undefined;
    const file = positional[0]!;

    const fail = (reason: string): number => {
      console.error(`ringkv check: ${file}: ${reason}`);
      if (json) console.log(JSON.stringify({ file, format, verdict: 'unknown', reason }));
      return EXIT_UNDECIDED;
    };

    let history: History;
    try {
      history = readHistory(format as Format, readFileSync(file, 'utf8'));
    } catch (err) {
      if (err instanceof HistoryFormatError) return fail(`unreadable ${format} history: ${err.message}`);
      const e = err as NodeJS.ErrnoException;
      if (typeof e.code === 'string') return fail(`cannot read: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
      throw err;
    }
    const unsupported = history.find((op) => !modelAccepts(model, op.kind));
    if (unsupported !== undefined) return fail(`the ${model} model has no ${unsupported.kind} operation`);

    const started = performance.now();
    const options: CheckOptions = { model, now: () => performance.now(), deadline: started + timeoutS * 1000 };
    if (maxSteps !== undefined) options.maxSteps = maxSteps;
    const result = checkLinearizability(history, options);
    const checkMs = performance.now() - started;
    const keyCount = splitByKey(history).size;

    let violation: Violation | null = null;
    let explainError: string | null = null;
    if (result.verdict === 'not-linearizable') {
      try {
        violation = explainViolation(history, result.keys.at(-1)!.key, { model, now: options.now!, deadline: options.deadline! });
      } catch (err) {
        explainError = (err as Error).message;
      }
    }

    if (htmlOut !== undefined) {
      const subtitle =
        result.verdict === 'linearizable'
          ? `linearizable: ${history.length} operations on ${keyCount} key(s)`
          : result.verdict === 'not-linearizable'
            ? `NOT linearizable: key ${JSON.stringify(result.keys.at(-1)!.key)}`
            : `undecided: ${result.reason}`;
      const details =
        violation !== null ? formatViolation(history, violation) + (format === 'jepsen' ? '\n(times are line numbers of the log)' : '') : '';
      const page = renderHistoryHtml({ title: `ringkv check: ${file}`, subtitle, details, history, sections: htmlSections(history, result, violation, { model }) });
      writeFileSync(htmlOut, page);
    }

    if (json) {
      console.log(
        JSON.stringify({
          file,
          format,
          model,
          verdict: result.verdict,
          reason: result.reason ?? explainError,
          operations: history.length,
          keys: keyCount,
          keysChecked: result.keys.length,
          steps: result.steps,
          checkMs: Math.round(checkMs * 1000) / 1000,
          violation: violation === null ? null : violationJson(history, violation),
          html: htmlOut ?? null,
        }),
      );
    } else if (result.verdict === 'linearizable') {
      console.log(`linearizable: ${history.length} operations on ${keyCount} key(s), ${result.steps} search steps, ${checkMs.toFixed(1)} ms`);
    } else if (result.verdict === 'not-linearizable') {
      if (violation !== null) {
        console.log(violationText(history, violation));
        if (format === 'jepsen') console.log('(times are line numbers of the log)');
      } else {
        console.log(`not linearizable: key ${JSON.stringify(result.keys.at(-1)!.key)} (no explanation: ${explainError})`);
      }
    }
    if (htmlOut !== undefined && !json) console.log(`wrote ${htmlOut}`);
    if (result.verdict === 'unknown') {
      console.error(`ringkv check: ${file}: undecided: ${result.reason} after ${result.steps} steps`);
      return EXIT_UNDECIDED;
    }
    return result.verdict === 'linearizable' ? EXIT_LINEARIZABLE : EXIT_NOT_LINEARIZABLE;
  },
};
