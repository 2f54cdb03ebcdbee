// `ringkv scenarios`: one line per named scenario: its name, what its checks
// must do, and what it shows.

import { SCENARIOS } from '../../scenarios/index.ts';
import { CHECK_NAMES, type Scenario } from '../../sim/scenario.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

/** "must pass all", or which checks must fail. */
export function expectationSummary(s: Scenario): string {
  const mustFail = CHECK_NAMES.filter((c) => s.expect[c] === 'fail');
  return mustFail.length === 0 ? 'must pass' : `must fail ${mustFail.join(', ')}`;
}

export const command: Command = {
  name: 'scenarios',
  summary: 'list the simulator scenarios, one line each',
  help: `usage: ringkv scenarios [--json]

Lists the named scenarios \`ringkv sim --scenario NAME\` runs: name, what the
checks must do (every check must pass, or which one the scenario exists to see
fail), and what it shows. Each scenario's module in scenarios/ documents its
cluster, workload, faults and expectations.`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['json'] });
    if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
    if (flags.has('json')) {
      console.log(JSON.stringify(SCENARIOS.map((s) => ({ name: s.name, summary: s.summary, expect: s.expect, nodes: s.cluster.nodes }))));
      return 0;
    }
    const width = Math.max(...SCENARIOS.map((s) => s.name.length));
    const expWidth = Math.max(...SCENARIOS.map((s) => expectationSummary(s).length));
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(width)}  ${expectationSummary(s).padEnd(expWidth)}  ${s.summary}`);
    return 0;
  },
};
