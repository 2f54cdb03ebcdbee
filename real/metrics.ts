// Prometheus metrics of a node process (prom-client), served at /metrics.
//
// Request rate and latency are recorded per operation, consistency (the
// level asked for, "explicit" for r/w counts, "keyspace" for the keyspace's
// default) and outcome (ok, not_found, or the error code). Everything else
// is read from the node when Prometheus scrapes: hints pending per target,
// SSTables per level, compaction backlog, peer link state and phi, and the
// node's coverage marks (hints stored, read repairs sent, ...).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineStats } from '../core/storage/engine_options.ts';
import type { EngineActivity } from './store_node_probe.ts';
import type { PeerStatus, TcpNetworkCounters } from './tcp_network.ts';

export type Operation = 'get' | 'put' | 'delete' | 'scan';

export interface MetricSources {
  nodeId: string;
  pendingHints(): Map<string, number>;
  engineStats(): EngineStats | null;
  engineActivity(): EngineActivity | null;
  peers(): PeerStatus[];
  network(): TcpNetworkCounters;
  marks(): Map<string, number>;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'op' | 'consistency' | 'outcome'>;
  private readonly latency: Histogram<'op' | 'consistency'>;
  private readonly httpResponses: Counter<'status'>;
  // Labelled series looked up once per label set: given a labels object,
  // prom-client sorts and hashes the labels again on every call.
  private readonly requestSeries = new Map<string, { requests: { inc(): void }; latency: { observe(v: number): void } }>();
  private readonly statusSeries = new Map<number, { inc(): void }>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: sources.nodeId });
    collectDefaultMetrics({ register: this.registry, prefix: 'ringkv_process_' });
    this.requests = new Counter({
      name: 'ringkv_requests_total',
      help: 'Client requests answered, by operation, consistency and outcome',
      labelNames: ['op', 'consistency', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'ringkv_request_duration_seconds',
      help: 'Client request latency as the coordinator saw it, by operation and consistency',
      labelNames: ['op', 'consistency'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.httpResponses = new Counter({ name: 'ringkv_http_responses_total', help: 'HTTP responses by status code', labelNames: ['status'], registers });

    const gauge = <L extends string>(name: string, help: string, labelNames: L[], collect: (g: Gauge<L>) => void) =>
      new Gauge<L>({ name, help, labelNames, registers, collect(this: Gauge<L>) { this.reset(); collect(this); } });

    gauge('ringkv_hints_pending', 'Hinted writes waiting for their target', ['target'], (g) => {
      for (const [target, n] of sources.pendingHints()) g.set({ target }, n);
    });
    gauge('ringkv_sstables', 'SSTables per level', ['level'], (g) => {
      sources.engineStats()?.tablesPerLevel.forEach((n, level) => g.set({ level: String(level) }, n));
    });
    const engineGauge = (name: string, help: string, read: (s: EngineStats) => number) =>
      gauge(name, help, [], (g) => {
        const s = sources.engineStats();
        if (s !== null) g.set(read(s));
      });
    engineGauge('ringkv_compaction_backlog_bytes', 'Bytes compaction still has to rewrite to meet its targets', (s) => s.compactionDebtBytes);
    engineGauge('ringkv_disk_bytes', 'Tables, logs and manifest on disk', (s) => s.diskBytes);
    engineGauge('ringkv_write_amplification', 'Bytes written to disk per user byte', (s) => s.writeAmplification);
    engineGauge('ringkv_compactions', 'Compactions run since start', (s) => s.compactionsRun);
    engineGauge('ringkv_wal_syncs', 'WAL fsyncs since start', (s) => s.walSyncs);
    engineGauge('ringkv_engine_background_errors', 'Flush or compaction failures since start', (s) => s.backgroundErrors);
    gauge('ringkv_engine_queued_writes', 'Writes waiting in the storage engine', [], (g) => {
      const a = sources.engineActivity();
      if (a !== null) g.set(a.queuedWrites);
    });
    gauge('ringkv_peer_link_up', '1 when the outbound link to the peer is authenticated', ['peer'], (g) => {
      for (const p of sources.peers()) g.set({ peer: p.id }, p.link === 'ready' ? 1 : 0);
    });
    gauge('ringkv_peer_phi', 'Phi-accrual suspicion of the peer (heartbeats)', ['peer'], (g) => {
      for (const p of sources.peers()) if (p.phi !== null) g.set({ peer: p.id }, Math.min(p.phi, 1e6));
    });
    gauge('ringkv_peer_queued_frames', 'Frames waiting to be written to the peer', ['peer'], (g) => {
      for (const p of sources.peers()) g.set({ peer: p.id }, p.queuedFrames);
    });
    gauge('ringkv_peer_frames_dropped', 'Frames dropped since start because the queue to the peer was full', ['peer'], (g) => {
      for (const p of sources.peers()) g.set({ peer: p.id }, p.framesDropped);
    });
    gauge('ringkv_peer_connections_rejected', 'Inbound peer connections refused since start (bad handshake, MAC, garbage)', [], (g) => {
      g.set(sources.network().connectionsRejected);
    });
    gauge('ringkv_node_events', 'Protocol events since start (hints stored and replayed, read repairs, ...)', ['event'], (g) => {
      for (const [event, n] of sources.marks()) g.set({ event }, n);
    });
  }

  observeRequest(op: Operation, consistency: string, outcome: string, seconds: number): void {
    const key = `${op}|${consistency}|${outcome}`;
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      series = { requests: this.requests.labels({ op, consistency, outcome }), latency: this.latency.labels({ op, consistency }) };
      this.requestSeries.set(key, series);
    }
    series.requests.inc();
    series.latency.observe(seconds);
  }

  observeHttpStatus(status: number): void {
    let series = this.statusSeries.get(status);
    if (series === undefined) {
      series = this.httpResponses.labels({ status: String(status) });
      this.statusSeries.set(status, series);
    }
    series.inc();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
