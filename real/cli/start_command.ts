// `ringkv start`: runs one node in this process until SIGINT or SIGTERM (or,
// when started by `ringkv local-cluster`, until the parent goes away), then
// stops it cleanly (real/node_process.ts). Configuration comes from a JSON
// file (real/node_config.ts documents it) and/or flags, flags winning.

import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { ConfigError, DEFAULT_HTTP_PORT, DEFAULT_PEER_PORT, DEFAULT_VNODES, readConfigFile, resolveNodeConfig } from '../node_config.ts';
import { startNode } from '../node_process.ts';
import { type Command, UsageError, parseFlags } from './command.ts';

const HELP = `usage: ringkv start [--config FILE] [options]

Runs one ringkv node until SIGINT/SIGTERM, then stops it cleanly: HTTP
requests in progress finish, the storage engine closes with every
acknowledged write and stored hint on disk, then the peer links close.
Logs are JSON lines (pino) on stdout or in --log-file.

options (each overrides the same setting of --config):
  --config FILE          JSON configuration (fields documented in real/node_config.ts)
  --node-id ID           this node's id (letters, digits, '_', '.', '-')
  --cluster NAME         cluster name, checked in the peer handshake (default ringkv)
  --data DIR             data directory of this node alone
  --http HOST:PORT       HTTP API address (default 127.0.0.1:${DEFAULT_HTTP_PORT}; port 0 picks one)
  --peer HOST:PORT       peer listen address (default 127.0.0.1:${DEFAULT_PEER_PORT})
  --members LIST         every member with its peer address, this node included:
                         n1=127.0.0.1:9001,n2=127.0.0.1:9002,... Membership is
                         static; without it the node is a cluster of one
  --vnodes N             tokens per member when not listed (default ${DEFAULT_VNODES})
  --keyspaces LIST       name:N[:lww|siblings[:READ[:WRITE[:TTL_SECONDS]]]],...
                         e.g. default:3,carts:3:siblings:QUORUM:QUORUM
                         (levels ONE, TWO, QUORUM, ALL, STRONG; 'default' is
                         added as default:3 when missing)
  --secret-file FILE     cluster secret, hex, >= 16 bytes (or env RINGKV_CLUSTER_SECRET)
  --api-token-file FILE  HTTP API token (or env RINGKV_API_TOKEN); required when
                         --http is not a loopback address
  --durability MODE      group-commit (default: a write is acknowledged after its
                         WAL fsync, shared by concurrent writes) or periodic
                         (acknowledged from the page cache, fsync every --sync-interval)
  --sync-interval MS     periodic mode's fsync interval (default 100)
  --request-timeout MS   a coordinator answers by then (default 2000)
  --max-value-bytes N    largest value accepted (default 1048576)
  --log-level LEVEL      trace, debug, info (default), warn, error, silent
  --log-file FILE        write logs there instead of stdout

exit codes: 0 stopped cleanly, 1 failed or did not stop in time, 2 bad usage
or configuration (every problem listed).`;

const STRINGS = [
  'config', 'node-id', 'cluster', 'data', 'http', 'peer', 'members', 'vnodes', 'keyspaces', 'secret-file', 'api-token-file',
  'durability', 'sync-interval', 'request-timeout', 'max-value-bytes', 'log-level', 'log-file',
];

/** The config file's object with the flags applied over it. */
export function configFromArgs(args: string[], cwd: string): { raw: Record<string, unknown>; baseDir: string } {
  const { flags, positional } = parseFlags(args, { strings: STRINGS });
  if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
  const get = (name: string) => flags.get(name) as string | undefined;
  const file = get('config');
  const { raw, baseDir } = file !== undefined ? readConfigFile(path.resolve(cwd, file)) : { raw: {} as Record<string, unknown>, baseDir: cwd };
  const abs = (p: string) => path.resolve(cwd, p);
  const num = (name: string) => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} needs a non-negative integer`);
    return Number(v);
  };
  const hostPort = (name: string) => {
    const v = get(name);
    if (v === undefined) return undefined;
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v);
    if (m === null) throw new UsageError(`--${name} needs HOST:PORT`);
    return { host: m[1] ?? m[2], port: Number(m[3]) };
  };
  const set = (key: string, v: unknown) => {
    if (v !== undefined) raw[key] = v;
  };
  set('nodeId', get('node-id'));
  set('cluster', get('cluster'));
  set('dataDir', get('data') === undefined ? undefined : abs(get('data')!));
  const http = hostPort('http');
  if (http !== undefined) raw.http = { ...(raw.http as object), ...http };
  const peer = hostPort('peer');
  if (peer !== undefined) raw.peer = { ...(raw.peer as object), ...peer };
  if (get('members') !== undefined) {
    raw.members = get('members')!.split(',').map((entry) => {
      const eq = entry.indexOf('=');
      if (eq <= 0) throw new UsageError(`--members entry ${JSON.stringify(entry)} must be ID=HOST:PORT`);
      return { id: entry.slice(0, eq), address: entry.slice(eq + 1) };
    });
  }
  set('vnodes', num('vnodes'));
  if (get('keyspaces') !== undefined) raw.keyspaces = get('keyspaces')!.split(',').map(parseKeyspaceSpec);
  set('secretFile', get('secret-file') === undefined ? undefined : abs(get('secret-file')!));
  if (get('api-token-file') !== undefined) raw.http = { ...(raw.http as object), apiTokenFile: abs(get('api-token-file')!) };
  set('durability', get('durability'));
  set('syncIntervalMs', num('sync-interval'));
  set('requestTimeoutMs', num('request-timeout'));
  set('maxValueBytes', num('max-value-bytes'));
  if (get('log-level') !== undefined || get('log-file') !== undefined) {
    raw.log = { ...(raw.log as object), ...(get('log-level') !== undefined ? { level: get('log-level') } : {}), ...(get('log-file') !== undefined ? { file: abs(get('log-file')!) } : {}) };
  }
  return { raw, baseDir };
}

function parseKeyspaceSpec(spec: string): Record<string, unknown> {
  const [name, n, mode, read, write, ttl, ...extra] = spec.split(':');
  if (!name || n === undefined || extra.length > 0) throw new UsageError(`--keyspaces entry ${JSON.stringify(spec)} must be name:N[:mode[:READ[:WRITE[:TTL_SECONDS]]]]`);
  const ks: Record<string, unknown> = { name, replicationFactor: Number(n) };
  if (mode) ks.conflictMode = mode;
  if (read) ks.readConsistency = read.toUpperCase();
  if (write) ks.writeConsistency = write.toUpperCase();
  if (ttl) ks.defaultTtlMs = Math.round(Number(ttl) * 1000);
  return ks;
}

function makeLogger(level: string, file: string | null, nodeId: string): Logger {
  const dest = file === null ? pino.destination({ dest: 1, sync: true }) : pino.destination({ dest: file, mkdir: true, sync: false });
  return pino({ level, base: { node: nodeId, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

export const command: Command = {
  name: 'start',
  summary: 'run one node (storage, peer transport, HTTP API) until SIGINT/SIGTERM',
  help: HELP,
  async run(args) {
    let config;
    try {
      const { raw, baseDir } = configFromArgs(args, process.cwd());
      config = resolveNodeConfig(raw, baseDir, process.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`ringkv start: ${err.message}`);
        return 2;
      }
      throw err;
    }
    const logger = makeLogger(config.log.level, config.log.file, config.nodeId);
    process.on('uncaughtException', (err) => {
      // Also on stderr: an asynchronous log file may lose its last lines to the exit below.
      console.error(`ringkv start: uncaught exception: ${err.stack ?? err.message}`);
      logger.fatal({ err }, 'uncaught exception');
      logger.flush();
      process.exit(1);
    });
    let running;
    try {
      running = await startNode(config, logger);
    } catch (err) {
      logger.error({ err }, 'node failed to start');
      logger.flush();
      console.error(`ringkv start: ${(err as Error).message}`);
      return 1;
    }
    const ready = { type: 'ready', node: config.nodeId, http: `${running.http.host}:${running.http.port}`, peer: `${running.peer.host}:${running.peer.port}` };
    process.send?.(ready);

    const stopped = new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (why: string) => {
        if (stopping) return void logger.info({ why }, 'already stopping');
        stopping = true;
        logger.info({ why }, 'shutdown requested');
        const deadline = setTimeout(() => {
          logger.error({ timeoutMs: config.shutdownTimeoutMs + 5000 }, 'shutdown did not finish in time');
          logger.flush();
          resolve(1);
        }, config.shutdownTimeoutMs + 5000);
        deadline.unref();
        running.stop().then(
          () => {
            clearTimeout(deadline);
            resolve(0);
          },
          (err: Error) => {
            logger.error({ err }, 'shutdown failed');
            resolve(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // Started by local-cluster: the parent going away (even by SIGKILL) stops the node too.
      if (process.send !== undefined) process.on('disconnect', () => stop('parent process gone'));
    });
    const code = await stopped;
    logger.flush();
    if (process.connected) process.disconnect();
    // Nothing may keep a stopped node alive (a stuck client socket, a stray timer).
    setTimeout(() => process.exit(code), 50).unref();
    return code;
  },
};
