// `ringkv get|put|del|scan`: the key-value API of a running node from the
// shell. Values go to stdout as raw bytes (binary-safe); the causal context
// of a read goes to stderr, ready to pass back with --context.

import { type Command, UsageError, parseFlags } from './command.ts';
import { NODE_FLAGS_HELP, NODE_FLAG_NAMES, clientFrom, consistencyFlag, countFlag, reportingErrors } from './node_client_flags.ts';

const write = (b: Uint8Array | string) => process.stdout.write(b);

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

function args2(positional: string[], usage: string, count: number): string[] {
  if (positional.length < count) throw new UsageError(`missing arguments: ${usage}`);
  return positional;
}

export const getCommand: Command = {
  name: 'get',
  summary: 'read a key from a running node (value to stdout)',
  help: `usage: ringkv get KEYSPACE KEY [--consistency LEVEL] [--r N] [--json] [--node URL]

Prints the value to stdout as raw bytes and the causal context, if any, to
stderr. Siblings are printed one after another, each after a line
"--- sibling N of M ---" (or, with --json, as one JSON object with base64 values).

options:
  --consistency LEVEL  ONE, TWO, QUORUM, ALL or STRONG (default: the keyspace's)
  --r N                replicas that must answer
  --json               print {"found", "values" (base64), "context"}
${NODE_FLAGS_HELP}

exit codes: 0 found, 1 error, 2 bad usage, 3 not found.`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['json'], strings: ['consistency', 'r', ...NODE_FLAG_NAMES] });
    const [keyspace, key] = args2(positional, 'KEYSPACE KEY', 2);
    const client = clientFrom(flags);
    try {
      return await reportingErrors('get', async () => {
        const r = await client.get(keyspace!, key!, { consistency: consistencyFlag(flags), r: countFlag(flags, 'r') });
        if (flags.has('json')) {
          console.log(JSON.stringify({ found: r.found, values: r.values.map((v) => Buffer.from(v).toString('base64')), context: r.context }));
        } else {
          if (r.context !== null) console.error(`context: ${r.context}`);
          if (r.values.length === 1) write(r.values[0]!);
          else r.values.forEach((v, i) => (write(`--- sibling ${i + 1} of ${r.values.length} ---\n`), write(v), write('\n')));
        }
        if (!r.found) console.error('not found');
        return r.found ? 0 : 3;
      });
    } finally {
      client.close();
    }
  },
};

export const putCommand: Command = {
  name: 'put',
  summary: 'write a key on a running node (value as argument or from stdin)',
  help: `usage: ringkv put KEYSPACE KEY [VALUE | -] [--context CTX] [--ttl SECONDS]
                  [--consistency LEVEL] [--w N] [--node URL]

Writes VALUE, or stdin when VALUE is '-' or absent.

options:
  --context CTX        causal context from a get: replaces the versions it saw
  --ttl SECONDS        expire the value after this long
  --consistency LEVEL  ONE, TWO, QUORUM, ALL or STRONG (default: the keyspace's)
  --w N                replicas that must acknowledge
${NODE_FLAGS_HELP}

exit codes: 0 written, 1 error, 2 bad usage.`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { strings: ['context', 'ttl', 'consistency', 'w', ...NODE_FLAG_NAMES] });
    const [keyspace, key, value] = args2(positional, 'KEYSPACE KEY [VALUE]', 2);
    const ttl = flags.get('ttl') as string | undefined;
    if (ttl !== undefined && !/^\d+(\.\d+)?$/.test(ttl)) throw new UsageError('--ttl needs a number of seconds');
    const bytes = value === undefined || value === '-' ? await readStdin() : new TextEncoder().encode(value);
    const client = clientFrom(flags);
    try {
      return await reportingErrors('put', async () => {
        await client.put(keyspace!, key!, bytes, {
          context: (flags.get('context') as string | undefined) ?? null,
          ttlSeconds: ttl === undefined ? undefined : Number(ttl),
          consistency: consistencyFlag(flags),
          w: countFlag(flags, 'w'),
        });
        return 0;
      });
    } finally {
      client.close();
    }
  },
};

export const delCommand: Command = {
  name: 'del',
  summary: 'delete a key on a running node',
  help: `usage: ringkv del KEYSPACE KEY [--context CTX] [--consistency LEVEL] [--w N] [--node URL]

options:
  --context CTX        causal context from a get: deletes the versions it saw
  --consistency LEVEL  ONE, TWO, QUORUM, ALL or STRONG (default: the keyspace's)
  --w N                replicas that must acknowledge
${NODE_FLAGS_HELP}

exit codes: 0 deleted, 1 error, 2 bad usage.`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { strings: ['context', 'consistency', 'w', ...NODE_FLAG_NAMES] });
    const [keyspace, key] = args2(positional, 'KEYSPACE KEY', 2);
    const client = clientFrom(flags);
    try {
      return await reportingErrors('del', async () => {
        await client.delete(keyspace!, key!, { context: (flags.get('context') as string | undefined) ?? null, consistency: consistencyFlag(flags), w: countFlag(flags, 'w') });
        return 0;
      });
    } finally {
      client.close();
    }
  },
};

export const scanCommand: Command = {
  name: 'scan',
  summary: 'list the keys of a keyspace range on a running node',
  help: `usage: ringkv scan KEYSPACE [--start KEY] [--end KEY] [--limit N] [--json] [--node URL]

Prints one line per key, "KEY<TAB>VALUE" (siblings joined by " | "), keys
in order, or with --json one JSON object per line (base64 key and values).

options:
  --start KEY          first key (inclusive)
  --end KEY            end key (exclusive)
  --limit N            stop after N keys (default: all)
  --consistency LEVEL  read consistency of the pages
${NODE_FLAGS_HELP}`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['json'], strings: ['start', 'end', 'limit', 'consistency', ...NODE_FLAG_NAMES] });
    const [keyspace] = args2(positional, 'KEYSPACE', 1);
    const limit = countFlag(flags, 'limit') ?? Infinity;
    const client = clientFrom(flags);
    try {
      return await reportingErrors('scan', async () => {
        let n = 0;
        const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
        const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
        for await (const item of client.scan(keyspace!, {
          start: flags.get('start') as string | undefined,
          end: flags.get('end') as string | undefined,
          consistency: consistencyFlag(flags),
          pageSize: Math.min(1000, limit),
        })) {
          if (n++ >= limit) break;
          if (flags.has('json')) console.log(JSON.stringify({ key: b64(item.key), values: item.values.map(b64), context: item.context }));
          else console.log(`${text(item.key)}\t${item.values.map(text).join(' | ')}`);
        }
        return 0;
      });
    } finally {
      client.close();
    }
  },
};
