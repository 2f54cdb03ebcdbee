// A self-contained HTML page that draws a key's history the way Porcupine's
// visualisation does: one lane per client process, one bar per operation from
// its call to its return on a shared time axis, the operations of the
// (longest) linearization numbered in their order, and, for a violation, the
// operation that could not be placed marked in red with the end of the
// shortest failing prefix drawn across all lanes. No external files: it opens
// from disk in any browser; every bar has a tooltip, and one line of script
// scrolls the failing operation into view.

import { describeOp, effectiveReturn, type History } from '../history.ts';
import { formatOp, keyEvents, runningAtPrefixEnd, type Violation } from './linearizability_explanation.ts';

export interface HistorySection {
  key: string;
  /** Indexes into the history of this key's operations. */
  ops: number[];
  /** The linearization to number: the full one, or the longest found. */
  linearization: number[];
  /** Present when the key is not linearizable. */
  violation: Violation | null;
}

export interface HistoryPage {
  title: string;
  /** One line under the title, e.g. the verdict. */
  subtitle: string;
  /** Preformatted text shown under the drawings (the explanation). */
  details: string;
  history: History;
  sections: HistorySection[];
}

const LANE = 30;
const BAR = 20;
const LEFT = 8;
const LABELS = 56;
const TOP = 34;
const COLUMN = 24;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

type BarStyle = 'linearized' | 'failing' | 'unplaced' | 'after' | 'pending';

function sectionSvg(page: HistoryPage, s: HistorySection): { labels: string; body: string } {
  const { history } = page;
  const v = s.violation;
  // The axis is the order of distinct event times, as in Porcupine: the gaps
  // between events say nothing about linearizability and would only squash them.
  const times = [...new Set(keyEvents(history, s.ops).map((e) => e.time))].sort((a, b) => a - b);
  const column = new Map(times.map((t, i) => [t, i]));
  const end = times.length + 1; // where operations that never returned end
  const processes = [...new Set(s.ops.map((i) => history[i]!.process))].sort((a, b) => a - b);
  const lane = new Map(processes.map((p, i) => [p, i]));
  const order = new Map(s.linearization.map((op, n) => [op, n + 1]));
  const unplaced = new Map((v?.unplaced ?? []).map((u) => [u.op, u.reason]));
  const prefixEnd = v ? v.events[v.prefixEvents - 1]!.time : null;
  const running = v ? runningAtPrefixEnd(history, v) : new Set<number>();
  const width = LEFT + (end + 1) * COLUMN + 20;
  const height = TOP + processes.length * LANE + 24;
  const x = (col: number) => LEFT + col * COLUMN + COLUMN / 2;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  parts.push(
    '<defs><linearGradient id="fade" x1="0" x2="1"><stop offset="0" stop-color="#c9ced6"/><stop offset="1" stop-color="#c9ced6" stop-opacity="0.15"/></linearGradient></defs>',
  );
  // Process names in a box of their own, so they stay put while the lanes scroll.
  const labels = [`<svg xmlns="http://www.w3.org/2000/svg" width="${LABELS}" height="${height}">`];
  processes.forEach((p, i) => {
    const y = TOP + i * LANE;
    if (i % 2 === 0) {
      parts.push(`<rect x="0" y="${y}" width="${width}" height="${LANE}" class="lane"/>`);
      labels.push(`<rect x="0" y="${y}" width="${LABELS}" height="${LANE}" class="lane"/>`);
    }
    labels.push(`<text x="8" y="${y + LANE / 2 + 4}" class="proc">p${p}</text>`);
  });
  labels.push('</svg>');
  // Axis: a tick with the time every few columns.
  const every = Math.max(1, Math.ceil(times.length / 40));
  times.forEach((t, i) => {
    if (i % every !== 0) return;
    parts.push(`<line x1="${x(i)}" x2="${x(i)}" y1="${TOP - 6}" y2="${height - 22}" class="grid"/>`);
    parts.push(`<text x="${x(i)}" y="${TOP - 10}" class="tick">${escapeHtml(String(t))}</text>`);
  });
  for (const i of s.ops) {
    const op = history[i]!;
    const ret = effectiveReturn(op);
    const x0 = x(column.get(op.call)!) - COLUMN / 2 + 2;
    const x1 = ret === Infinity ? x(end) : x(column.get(ret)!) + COLUMN / 2 - 2;
    const y = TOP + lane.get(op.process)! * LANE + (LANE - BAR) / 2;
    let style: BarStyle;
    if (v && i === v.failingOp) style = 'failing';
    else if (unplaced.has(i)) style = 'unplaced';
    else if (order.has(i)) style = 'linearized';
    else if (prefixEnd !== null && op.call > prefixEnd) style = 'after';
    else style = 'pending';
    const n = order.get(i);
    const label = `${n !== undefined ? `${n}. ` : ''}${describeOp(op)}`;
    const tip = [
      formatOp(history, i),
      n !== undefined ? `linearized as operation ${n}` : 'not in the linearization',
      style === 'failing' ? 'THE OPERATION THAT COULD NOT BE PLACED' : '',
      unplaced.get(i) ?? '',
      running.has(i) ? 'still running when the failing prefix ends: its outcome is taken as unknown there' : '',
    ]
      .filter((t) => t !== '')
      .join('\n');
    const fill = ret === Infinity && style !== 'failing' ? ' fill="url(#fade)"' : '';
    const id = style === 'failing' ? ' id="failing"' : '';
    parts.push(`<g class="op ${style}"${id}><title>${escapeHtml(tip)}</title>`);
    parts.push(`<rect x="${x0}" y="${y}" width="${Math.max(4, x1 - x0)}" height="${BAR}" rx="4"${fill}/>`);
    if (style === 'failing') {
      // Unclipped, so the operation that could not be placed can always be read.
      parts.push(`<text x="${x0 + 4}" y="${y + BAR / 2 + 4}" class="halo">${escapeHtml(label)}</text>`);
    } else {
      parts.push(`<svg x="${x0}" y="${y}" width="${Math.max(4, x1 - x0)}" height="${BAR}"><text x="4" y="${BAR / 2 + 4}">${escapeHtml(label)}</text></svg>`);
    }
    parts.push('</g>');
  }
  if (prefixEnd !== null) {
    const px = x(column.get(prefixEnd)!) + COLUMN / 2;
    parts.push(`<line x1="${px}" x2="${px}" y1="${TOP - 4}" y2="${height - 20}" class="cut"/>`);
    parts.push(`<text x="${px + 4}" y="${height - 6}" class="cutlabel">end of the shortest prefix that cannot be linearized</text>`);
  }
  parts.push('</svg>');
  return { labels: labels.join('\n'), body: parts.join('\n') };
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #1d2330; }
h1 { font-size: 20px; margin: 0 0 4px; }
.subtitle { margin: 0 0 16px; font-weight: 600; }
.callout { background: #fff0f0; border-left: 4px solid #b3141b; padding: 8px 10px; margin: 6px 0 10px; }
.bad { color: #b3141b; } .good { color: #146c2e; }
h2 { font-size: 16px; margin: 20px 0 6px; }
.drawing { display: flex; border: 1px solid #d5d9e0; border-radius: 6px; background: #fff; }
.labels { flex: none; border-right: 1px solid #d5d9e0; }
.scroll { overflow-x: auto; flex: 1; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 22px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 4px; border: 1px solid #7a8496; }
pre { background: #f5f6f8; padding: 10px; border-radius: 6px; overflow-x: auto; font-size: 12.5px; }
svg text { font: 11px ui-monospace, monospace; fill: #1d2330; }
.lane { fill: #f4f6f9; }
.proc { font-weight: 700; }
.tick { fill: #6b7385; font-size: 10px; text-anchor: middle; }
.grid { stroke: #e4e7ec; stroke-width: 1; }
.op rect { stroke: #7a8496; stroke-width: 1; }
.op.linearized rect { fill: #cfe3ff; stroke: #3b6fc4; }
.op.pending rect { fill: #e8eaee; }
.op.after rect { fill: #eef0f3; stroke: #c2c7d0; }
.op.after text { fill: #9aa1ae; }
.op.unplaced rect { fill: #ffe2b8; stroke: #c77a00; }
.op.failing rect { fill: #ff6b6b; stroke: #8b0000; stroke-width: 3; }
.op.failing text { font-weight: 700; }
.halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.op:hover rect { stroke-width: 3; }
.cut { stroke: #b3141b; stroke-width: 2; stroke-dasharray: 6 4; }
.cutlabel { fill: #b3141b; font-size: 11px; }
`;

function drawing(svg: { labels: string; body: string }): string {
  return `<div class="drawing"><div class="labels">${svg.labels}</div><div class="scroll">${svg.body}</div></div>`;
}

/** The whole page. */
export function renderHistoryHtml(page: HistoryPage): string {
  const bad = page.sections.some((s) => s.violation !== null);
  const legend = [
    ['#cfe3ff', 'in the linearization (numbered in order)'],
    ...(bad
      ? [
          ['#ff6b6b', 'the operation that could not be placed'],
          ['#ffe2b8', 'completed but not placed'],
        ]
      : []),
    ['#e8eaee', 'not placed: outcome unknown or still running (fades: never returned)'],
    ...(bad ? [['#eef0f3', 'after the failing prefix']] : []),
  ]
    .map(([color, text]) => `<span><i style="background:${color}"></i>${escapeHtml(text!)}</span>`)
    .join('');
  const sections = page.sections
    .map(
      (s) =>
        `<h2>key ${escapeHtml(JSON.stringify(s.key))}: ${s.ops.length} operations${s.violation ? ' — <span class="bad">not linearizable</span>' : ''}</h2>\n` +
        (s.violation
          ? `<p class="callout">Could not be placed: <b>${escapeHtml(formatOp(page.history, s.violation.failingOp))}</b>` +
            (s.violation.unplaced.find((u) => u.op === s.violation!.failingOp)
              ? ` — ${escapeHtml(s.violation.unplaced.find((u) => u.op === s.violation!.failingOp)!.reason)}`
              : '') +
            `. Longest linearization found: ${s.violation.longest.length} operations, leaving the register at ${escapeHtml(s.violation.stateAfterLongest ?? 'nil')}.</p>\n`
          : '') +
        drawing(sectionSvg(page, s)),
    )
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(page.title)}</h1>`,
    `<p class="subtitle ${bad ? 'bad' : 'good'}">${escapeHtml(page.subtitle)}</p>`,
    `<p class="legend">${legend}</p>`,
    '<p>Each lane is a client process; a bar runs from an operation\'s call to its return. Hover a bar for details.</p>',
    sections,
    page.details === '' ? '' : `<pre>${escapeHtml(page.details)}</pre>`,
    // Bring the failing operation into view in its scrolling box.
    "<script>const f = document.getElementById('failing'); if (f) f.scrollIntoView({ block: 'nearest', inline: 'center' });</script>",
    '</body></html>',
    '',
  ].join('\n');
}
