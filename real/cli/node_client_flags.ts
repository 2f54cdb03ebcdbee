// What every command talking to a running node shares: which node, the API
// token, and turning server errors into a message and an exit code.

import * as fs from 'node:fs';
import { Client, RingkvError, type ConsistencyLevel } from '../client.ts';
import { UsageError } from './command.ts';

export const NODE_FLAGS_HELP = `  --node URL          node to talk to (default http://127.0.0.1:8001; or env RINGKV_NODE);
                      several comma-separated URLs are used in turn
  --token-file FILE   HTTP API token (or env RINGKV_API_TOKEN)`;

export const NODE_FLAG_NAMES = ['node', 'token-file'];

export function clientFrom(flags: Map<string, string | true>, env: Record<string, string | undefined> = process.env): Client {
  const node = (flags.get('node') as string | undefined) ?? env.RINGKV_NODE ?? 'http://127.0.0.1:8001';
  const tokenFile = flags.get('token-file') as string | undefined;
  let apiToken = env.RINGKV_API_TOKEN;
  if (tokenFile !== undefined) {
    try {
      apiToken = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--token-file: ${(err as Error).message}`);
    }
  }
  const nodes = node.split(',').map((n) => (/^https?:\/\//.test(n) ? n : `http://${n}`));
  try {
    return new Client({ nodes, apiToken, retries: 2 });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function consistencyFlag(flags: Map<string, string | true>): ConsistencyLevel | undefined {
  const c = flags.get('consistency') as string | undefined;
  if (c === undefined) return undefined;
  const upper = c.toUpperCase();
  if (!['ONE', 'TWO', 'QUORUM', 'ALL', 'STRONG'].includes(upper)) throw new UsageError('--consistency must be ONE, TWO, QUORUM, ALL or STRONG');
  return upper as ConsistencyLevel;
}

export function countFlag(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name) as string | undefined;
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} needs a positive integer`);
  return Number(v);
}

/** Runs `body`; a RingkvError becomes a one-line message and exit code 1. */
export async function reportingErrors(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof RingkvError)) throw err;
    const counts = err.details.replied !== undefined ? ` (${err.details.replied} of ${err.details.required} replicas answered)` : '';
    console.error(`ringkv ${name}: ${err.code}: ${err.message}${counts}`);
    return 1;
  }
}
