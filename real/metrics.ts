// Prometheus metrics of a node process (prom-client), served at /metrics.
//
// Request rate and latency are recorded per operation, consistency (the
// level asked for, "explicit" for r/w counts, "keyspace" for the keyspace's
// default) and outcome (ok, not_found, or the error code). Everything else
// is read from the node when Prometheus scrapes: hints pending per target,
// SSTables per level, compaction backlog, peer link state and phi, and the
// node's coverage marks (hints stored, read repairs sent, ...).
//
// The per-request series are plain tallies (a count, a sum and bucket
// counts) updated in place, and handed to prom-client only when scraped: a
// prom-client observe or inc converts, validates and hashes its labels on
// every call (~4 us for the three calls of a request here).

import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { EngineStats } from '../core/storage/engine_options.ts';
import type { EngineActivity } from './store_node_probe.ts';
import type { PeerStatus, TcpNetworkCounters } from './tcp_network.ts';

export type Operation = 'get' | 'put' | 'delete' | 'scan';

const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One (op, consistency, outcome) series: its requests and their latency. */
interface RequestSeries {
  labels: { op: string; consistency: string; outcome: string };
  requests: number;
  sumSeconds: number;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: Float64Array;
}

/**
 * The latency histogram per (op, consistency), summed from the request
 * series when scraped, in the shape prom-client's registry renders (the
 * registry duck-types metrics: name, help, type, aggregator, get, reset).
 */
class LatencyHistogram {
  readonly name = 'ringkv_request_duration_seconds';
  readonly help = 'Client request latency as the coordinator saw it, by operation and consistency';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames = ['op', 'consistency'];

  constructor(
    private readonly series: Map<string, RequestSeries>,
    /** Listed before op and consistency, where prom-client's own histogram put it. */
    private readonly node: string,
  ) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] } {
    const byLabels = new Map<string, { op: string; consistency: string; count: number; sum: number; buckets: Float64Array }>();
    for (const s of this.series.values()) {
      const key = `${s.labels.op}|${s.labels.consistency}`;
      let h = byLabels.get(key);
      if (h === undefined) {
        h = { op: s.labels.op, consistency: s.labels.consistency, count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1) };
        byLabels.set(key, h);
      }
      h.count += s.requests;
      h.sum += s.sumSeconds;
      for (let i = 0; i < h.buckets.length; i++) h.buckets[i]! += s.buckets[i]!;
    }
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    const node = this.node;
    for (const h of byLabels.values()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS_SECONDS.length; i++) {
        cumulative += h.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: LATENCY_BUCKETS_SECONDS[i]!, node, op: h.op, consistency: h.consistency }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', node, op: h.op, consistency: h.consistency }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels: { node, op: h.op, consistency: h.consistency }, value: h.sum });
      values.push({ metricName: `${this.name}_count`, labels: { node, op: h.op, consistency: h.consistency }, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.requests = 0;
      s.sumSeconds = 0;
      s.buckets.fill(0);
    }
  }
}

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
  private readonly requestSeries = new Map<string, RequestSeries>();
  /** Responses per HTTP status. */
  private readonly statusCounts = new Map<number, number>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: sources.nodeId });
    collectDefaultMetrics({ register: this.registry, prefix: 'ringkv_process_' });
    const requestSeries = this.requestSeries;
    const statusCounts = this.statusCounts;
    new Counter({
      name: 'ringkv_requests_total',
      help: 'Client requests answered, by operation, consistency and outcome',
      labelNames: ['op', 'consistency', 'outcome'],
      registers,
      collect(this: Counter<'op' | 'consistency' | 'outcome'>) {
        this.reset();
        for (const s of requestSeries.values()) this.inc(s.labels, s.requests);
      },
    });
    // The registry takes any object of this shape; its Metric type names a class.
    this.registry.registerMetric(new LatencyHistogram(requestSeries, sources.nodeId) as unknown as Metric);
    new Counter({
      name: 'ringkv_http_responses_total',
      help: 'HTTP responses by status code',
      labelNames: ['status'],
      registers,
      collect(this: Counter<'status'>) {
        this.reset();
        for (const [status, n] of statusCounts) this.inc({ status: String(status) }, n);
      },
    });

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
    engineGauge('ringkv_engine_write_slowdowns', '1 ms delays of the storage engine\'s write queue for level 0 over its slowdown trigger, since start', (s) => s.writeSlowdowns);
    engineGauge('ringkv_engine_write_stops', 'Times a write found the storage engine stopped until a flush or compaction finished, since start', (s) => s.writeStops);
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
      series = { labels: { op, consistency, outcome }, requests: 0, sumSeconds: 0, buckets: new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1) };
      this.requestSeries.set(key, series);
    }
    series.requests++;
    series.sumSeconds += seconds;
    let b = 0;
    while (b < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[b]!) b++;
    series.buckets[b]!++;
  }

  observeHttpStatus(status: number): void {
    this.statusCounts.set(status, (this.statusCounts.get(status) ?? 0) + 1);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
