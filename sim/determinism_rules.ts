// The determinism rules of DESIGN.md as a source scan (TigerBeetle's tidy):
// io/, core/ and sim/ may not reach the real world except through the io/
// interfaces, or a seed would stop replaying the same run.

export interface RuleViolation {
  file: string;
  line: number;
  rule: string;
  text: string;
}

const RULES: { rule: string; pattern: RegExp }[] = [
  { rule: 'node: import', pattern: /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]node:/ },
  { rule: 'node builtin import', pattern: /from\s+['"](fs|os|path|crypto|net|http|child_process|worker_threads|perf_hooks|timers)['"]/ },
  { rule: 'wall clock', pattern: /\bDate\.now\b|\bnew Date\b/ },
  { rule: 'random numbers', pattern: /\bMath\.random\b/ },
  { rule: 'real timers', pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/ },
  { rule: 'process', pattern: /\bprocess\.\w/ },
  { rule: 'performance', pattern: /\bperformance\.now\b/ },
];

/** Scans one file's text; comments are skipped so the rules can be documented. */
export function scanSource(file: string, text: string): RuleViolation[] {
  const out: RuleViolation[] = [];
  const lines = text.split('\n');
  let inBlockComment = false;
  lines.forEach((raw, i) => {
    let line = raw;
    if (inBlockComment) {
      const end = line.indexOf('*/');
      if (end === -1) return;
      line = line.slice(end + 2);
      inBlockComment = false;
    }
    line = line.replace(/\/\*.*?\*\//g, '');
    const open = line.indexOf('/*');
    if (open !== -1) {
      inBlockComment = true;
      line = line.slice(0, open);
    }
    const lineComment = line.indexOf('//');
    if (lineComment !== -1) line = line.slice(0, lineComment);
    for (const { rule, pattern } of RULES) {
      if (pattern.test(line)) out.push({ file, line: i + 1, rule, text: raw.trim() });
    }
  });
  return out;
}
