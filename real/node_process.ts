// One ringkv node running in this process: the storage engine on its data
// directory, the TCP transport to its peers, the StoreNode, and the HTTP API.
//
// Shutdown (stop) goes from the outside in: the HTTP listener stops taking
// connections and requests in progress finish (each is answered within the
// request timeout); then the StoreNode closes, which closes the storage
// engine after its in-flight WAL syncs, so every acknowledged write and
// every stored hint is on disk; in periodic durability mode every dirty
// file is synced first. Only then does the peer transport close. Hints for
// peers that were down stay in the engine and are replayed after restart.
//
// The data directory is held with a pid file so two processes cannot open
// the same one; a pid file left by a process that no longer runs is taken over.

import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Env } from '../io/env.ts';
import { StoreNode } from '../core/node.ts';
import { EventLoopMonitor } from './event_loop_monitor.ts';
import { httpRequestHandler } from './http_api.ts';
import { NodeMetrics } from './metrics.ts';
import { NODE_PROCESS_V8_FLAGS, missingV8Flags } from './node_v8_flags.ts';
import type { RealNodeConfig } from './node_config.ts';
import { nodeStatus } from './node_status.ts';
import { PeriodicSyncDisk } from './periodic_sync_disk.ts';
import { realStorageEnv } from './storage_env.ts';
import { engineActivity, engineStats } from './store_node_probe.ts';
import { TcpNetwork } from './tcp_network.ts';

export const PID_FILE = 'ringkv.pid';

export interface RunningNode {
  readonly config: RealNodeConfig;
  readonly node: StoreNode;
  readonly network: TcpNetwork;
  readonly metrics: NodeMetrics;
  readonly http: { host: string; port: number };
  readonly peer: { host: string; port: number };
  /** Stops the node as described above; resolves when everything is closed. Idempotent. */
  stop(): Promise<void>;
}

export async function startNode(config: RealNodeConfig, logger: Logger): Promise<RunningNode> {
  const missingFlags = missingV8Flags(process.execArgv);
  if (missingFlags.length > 0) {
    logger.warn({ missing: missingFlags }, `started without node ${NODE_PROCESS_V8_FLAGS.join(' ')}: expect frequent full GCs and a longer latency tail (run bin/ringkv.mjs directly, or pass them to node)`);
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  const releaseDir = lockDataDir(config.dataDir);
  const cleanups: Array<() => Promise<void> | void> = [releaseDir];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const storage = realStorageEnv(config.dataDir);
    const periodic = config.durability.mode === 'periodic' ? new PeriodicSyncDisk(storage.disk, config.durability.intervalMs) : null;
    cleanups.push(() => {
      periodic?.stop();
      storage.timers.cancelAll();
    });
    const network = await TcpNetwork.listen({
      nodeId: config.nodeId,
      cluster: config.cluster,
      secret: config.secret,
      listenHost: config.peer.host,
      listenPort: config.peer.port,
      members: config.members,
      clock: storage.clock,
      rng: storage.rng,
      logger: logger.child({ component: 'peer' }),
    });
    cleanups.push(() => network.close());
    const env: Env = { ...storage, disk: periodic ?? storage.disk, nodeId: config.nodeId, net: network };
    const openStarted = performance.now();
    const nodeConfig = { ...config.node, peerAddress: network.advertisedAddress };
    const node = await new Promise<StoreNode>((resolve, reject) => StoreNode.open(env, nodeConfig, (err, n) => (err !== null ? reject(err) : resolve(n!))));
    cleanups.push(() => new Promise<void>((resolve) => node.close(() => resolve())));
    // Members this node was not configured with (a node that joined later) are
    // reached at the address they gossip.
    const learnAddresses = setInterval(() => {
      for (const m of node.memberStates()) if (m.address !== null) network.learnAddress(m.id, m.address);
    }, 1000);
    learnAddresses.unref();
    cleanups.push(() => clearInterval(learnAddresses));
    const stats = engineStats(node);
    // How long recovery took, and how long the process had run before it: a restart's time splits into the two.
    const openMs = Math.round(performance.now() - openStarted);
    logger.info({ dataDir: config.dataDir, openMs, processUptimeMs: Math.round(process.uptime() * 1000), recovery: stats?.recovery, tablesPerLevel: stats?.tablesPerLevel }, 'storage opened');

    const metrics = new NodeMetrics({
      nodeId: config.nodeId,
      pendingHints: () => node.pendingHints(),
      engineStats: () => engineStats(node),
      engineActivity: () => engineActivity(node),
      peers: () => network.peerStatus(),
      network: () => network.counters,
      marks: () => node.marks(),
    });
    const startedAtMs = Date.now();
    let httpAddress = '';
    const server = http.createServer(
      httpRequestHandler({
        node,
        metrics,
        status: () => nodeStatus({ config, node, network, httpAddress, startedAtMs, nowMs: () => Date.now() }),
        apiToken: config.http.apiToken,
        maxKeyBytes: config.node.maxKeyBytes,
        maxValueBytes: config.node.maxValueBytes,
        maxInflightRequests: config.http.maxInflightRequests,
        logger: logger.child({ component: 'http' }),
      }),
    );
    server.keepAliveTimeout = 30_000;
    // A client that trickles its headers or body holds an in-flight slot; bound how long.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.http.port, config.http.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as AddressInfo;
    const httpBound = { host: a.address, port: a.port };
    httpAddress = `${httpBound.host}:${httpBound.port}`;
    const peerBound = network.address;
    logger.info({ http: httpAddress, peer: `${peerBound.host}:${peerBound.port}`, members: config.members.map((m) => m.id) }, 'node serving');
    const loopMonitor = new EventLoopMonitor({ intervalMs: 10_000, warnMs: 50, logger: logger.child({ component: 'event-loop' }) });

    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        logger.info('node stopping');
        clearInterval(learnAddresses);
        await closeHttp(server, config.shutdownTimeoutMs);
        if (periodic !== null) await new Promise<void>((resolve) => periodic.flushAll(() => resolve()));
        const hints = node.pendingHints();
        await new Promise<void>((resolve) => node.close((err) => {
          if (err !== null) logger.error({ err }, 'storage close failed');
          resolve();
        }));
        await waitForSyncs(() => storage.disk.pendingSyncCount());
        storage.disk.close();
        periodic?.stop();
        storage.timers.cancelAll();
        await network.close();
        releaseDir();
        loopMonitor.stop();
        logger.info({ hintsPending: Object.fromEntries(hints), eventLoopMaxDelayMs: Math.round(loopMonitor.summary().maxMs) }, 'node stopped');
      })();
      return stopping;
    };
    return { config, node, network, metrics, http: httpBound, peer: peerBound, stop };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Stops accepting connections, lets requests in progress finish, and cuts what is left after `timeoutMs`. */
function closeHttp(server: http.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function waitForSyncs(pending: () => number): Promise<void> {
  for (let i = 0; i < 500 && pending() > 0; i++) await new Promise((r) => setTimeout(r, 10));
}

/** Data directories nodes of this process hold (a pid file naming this process is stale only when absent here). */
const heldHere = new Set<string>();

/** Takes the data directory's pid file; returns its release. Throws when a live process holds it. */
function lockDataDir(dir: string): () => void {
  const file = path.join(dir, PID_FILE);
  if (heldHere.has(file)) throw new Error(`data directory ${dir} is in use by process ${process.pid} (this one)`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(file);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new Error(`data directory ${dir} is in use by process ${holder} (${file})`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot take ${file}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
