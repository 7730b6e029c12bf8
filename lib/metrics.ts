// The one Prometheus adapter (prom-client): tsk's metrics and their text rendering for /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tsk_' });

export const apiRequests = new Counter({
  name: 'apiserver_request_total',
  help: 'API requests by verb, group, resource and HTTP code',
  labelNames: ['verb', 'group', 'resource', 'code'] as const,
  registers: [registry],
});

export const apiLatency = new Histogram({
  name: 'apiserver_request_duration_seconds',
  help: 'API request latency by verb, group and resource (watches excluded)',
  labelNames: ['verb', 'group', 'resource'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const storeLatency = new Histogram({
  name: 'tsk_store_operation_duration_seconds',
  help: 'Store operation latency by operation',
  labelNames: ['operation'] as const,
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [registry],
});

export const watchers = new Gauge({
  name: 'apiserver_registered_watchers',
  help: 'Open watches by group and resource',
  labelNames: ['group', 'resource'] as const,
  registers: [registry],
});

export function renderMetrics(): Promise<string> {
  return registry.metrics();
}

export const metricsContentType = registry.contentType;

/** Times an async store operation into storeLatency. */
export async function timeStore<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  const end = storeLatency.startTimer({ operation });
  try {
    return await fn();
  } finally {
    end();
  }
}
