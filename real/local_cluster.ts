// A cluster of ringkv nodes on this machine, one child process each
// (`ringkv start`), for development and tests: what `npm start` runs.
//
// Everything lives under one directory (default ./data):
//
//   cluster.json     written once: cluster name, node count, vnodes, keyspaces
//   cluster.secret   written once (mode 0600): the peer secret, hex
//   n1.json ...      each node's config, rewritten on every start (ports may change)
//   n1/ ...          each node's data directory
//   logs/n1.log ...  each node's JSON log
//
// A second start finds cluster.json and the data again, so the same ring
// (tokens derive from the node ids and vnodes) holds the same keys. The
// children run with an IPC channel: they report their addresses when
// serving, and stop by themselves if this process dies.

import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_VNODES } from './node_config.ts';
import { NODE_PROCESS_V8_FLAGS } from './node_v8_flags.ts';
import { generateSecretHex } from './peer_auth.ts';

export interface LocalClusterSettings {
  cluster: string;
  nodes: number;
  vnodes: number;
  keyspaces: Array<Record<string, unknown>>;
}

export interface LocalClusterOptions {
  dataDir: string;
  nodes: number;
  host: string;
  httpPorts: number[];
  peerPorts: number[];
  /** Used only when cluster.json does not exist yet. */
  keyspaces?: Array<Record<string, unknown>>;
  vnodes?: number;
  logLevel: string;
  /** The `ringkv` entry point the children run. */
  binPath: string;
  startTimeoutMs: number;
  /** Lines for the operator (stderr of the children, exits). */
  report: (line: string) => void;
  /** Node.js flags for the node processes (profiling, tracing), after NODE_PROCESS_V8_FLAGS; default this process's own. */
  execArgv?: string[];
  /** Durability of the nodes (node_config.ts); default group commit, an fsync per write batch. */
  durability?: { mode: 'group-commit' } | { mode: 'periodic'; syncIntervalMs: number };
}

export interface LocalNode {
  id: string;
  http: string;
  peer: string;
  pid: number;
  configFile: string;
  logFile: string;
}

const SETTINGS_FILE = 'cluster.json';
const SECRET_FILE = 'cluster.secret';

export function nodeIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** Reads cluster.json and cluster.secret, creating them on the first run. */
export function loadOrCreateSettings(o: Pick<LocalClusterOptions, 'dataDir' | 'nodes' | 'keyspaces' | 'vnodes'>): LocalClusterSettings {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const settingsFile = path.join(o.dataDir, SETTINGS_FILE);
  const secretFile = path.join(o.dataDir, SECRET_FILE);
  if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, generateSecretHex() + '\n', { mode: 0o600 });
  if (fs.existsSync(settingsFile)) {
    const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as LocalClusterSettings;
    if (settings.nodes !== o.nodes) {
      throw new Error(`${settingsFile} describes a cluster of ${settings.nodes} nodes, not ${o.nodes}; membership is fixed (use another --data directory)`);
    }
    return settings;
  }
  const rf = Math.min(3, o.nodes);
  const settings: LocalClusterSettings = {
    cluster: `local-${generateSecretHex().slice(0, 8)}`,
    nodes: o.nodes,
    vnodes: o.vnodes ?? DEFAULT_VNODES,
    keyspaces: o.keyspaces ?? [
      { name: 'default', replicationFactor: rf },
      { name: 'carts', replicationFactor: rf, conflictMode: 'siblings' },
    ],
  };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
  return settings;
}

/** Writes n1.json ... for this start's addresses; returns their paths. */
export function writeNodeConfigs(o: LocalClusterOptions, settings: LocalClusterSettings): string[] {
  const ids = nodeIds(o.nodes);
  const members = ids.map((id, i) => ({ id, address: `${o.host}:${o.peerPorts[i]}` }));
  return ids.map((id, i) => {
    const file = path.join(o.dataDir, `${id}.json`);
    const config = {
      nodeId: id,
      cluster: settings.cluster,
      dataDir: id,
      http: { host: o.host, port: o.httpPorts[i] },
      peer: { host: o.host, port: o.peerPorts[i] },
      secretFile: SECRET_FILE,
      members,
      vnodes: settings.vnodes,
      keyspaces: settings.keyspaces,
      log: { level: o.logLevel, file: path.join('logs', `${id}.log`) },
      ...(o.durability?.mode === 'periodic' ? { durability: 'periodic', syncIntervalMs: o.durability.syncIntervalMs } : {}),
    };
    fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
    return file;
  });
}

export class LocalCluster {
  private stopping = false;

  private constructor(
    readonly nodes: LocalNode[],
    private readonly children: Map<string, ChildProcess>,
    private readonly exits: Map<string, Promise<number | null>>,
  ) {}

  /** Starts every node and resolves once all of them serve; on any failure stops the rest and rejects. */
  static async start(o: LocalClusterOptions): Promise<LocalCluster> {
    if (o.httpPorts.length !== o.nodes || o.peerPorts.length !== o.nodes) throw new Error(`need ${o.nodes} HTTP and ${o.nodes} peer ports`);
    const settings = loadOrCreateSettings(o);
    const files = writeNodeConfigs(o, settings);
    const ids = nodeIds(o.nodes);
    const children = new Map<string, ChildProcess>();
    const exits = new Map<string, Promise<number | null>>();
    const ready = ids.map((id, i) => {
      const child = fork(o.binPath, ['start', '--config', files[i]!], { execArgv: [...NODE_PROCESS_V8_FLAGS, ...(o.execArgv ?? process.execArgv)], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      children.set(id, child);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line.trim() !== '') o.report(`[${id}] ${line}`);
      });
      exits.set(id, new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : null)))));
      return new Promise<LocalNode>((resolve, reject) => {
        child.on('message', (m: { type?: string; http?: string; peer?: string }) => {
          if (m?.type === 'ready') {
            resolve({ id, http: m.http!, peer: m.peer!, pid: child.pid!, configFile: files[i]!, logFile: path.join(o.dataDir, 'logs', `${id}.log`) });
          }
        });
        void exits.get(id)!.then((code) => reject(new Error(`${id} exited with code ${code} before serving (see ${path.join(o.dataDir, 'logs', `${id}.log`)})`)));
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`nodes did not serve within ${o.startTimeoutMs} ms`)), o.startTimeoutMs);
    });
    const cluster = new LocalCluster([], children, exits);
    try {
      const nodes = await Promise.race([Promise.all(ready), timeout]);
      cluster.nodes.push(...nodes);
      for (const id of ids) {
        void exits.get(id)!.then((code) => {
          if (!cluster.stopping) o.report(`${id} exited with code ${code}; the other nodes keep running`);
        });
      }
      return cluster;
    } catch (err) {
      await cluster.stop('SIGTERM', 10_000);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get pids(): number[] {
    return [...this.children.values()].map((c) => c.pid!).filter((p) => p !== undefined);
  }

  /** Resolves when every child has exited, with their exit codes. */
  whenAllExited(): Promise<Map<string, number | null>> {
    return Promise.all([...this.exits.entries()].map(async ([id, p]) => [id, await p] as const)).then((e) => new Map(e));
  }

  /** Sends `signal` to every child still running; kills what is left after `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<Map<string, number | null>> {
    this.stopping = true;
    for (const child of this.children.values()) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const force = setTimeout(() => this.kill(), timeoutMs);
    const codes = await this.whenAllExited();
    clearTimeout(force);
    return codes;
  }

  /** SIGKILLs every child still running. */
  kill(): void {
    this.stopping = true;
    for (const child of this.children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
