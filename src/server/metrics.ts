// What a node counts for Prometheus (GET /metrics; the operations spec lists each metric). Counters
// are this node's; the gauges of tasks and jobs are read when scraped, from what is in flight only
// (recording, finalizing, uploading; jobs waiting or running), so a scrape costs the same with a
// million finished tasks as with none.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskState } from './task-store.js';

type MaybePromise<T> = T | Promise<T>;

/** The task states still in flight, counted by the tasks gauge. */
export const activeStates = ['recording', 'finalizing', 'uploading'] as const satisfies readonly TaskState[];
export type ActiveCounts = Record<(typeof activeStates)[number], number>;

export interface MetricsSources {
  /** Tasks in each state still in flight (the database's). */
  activeTasks(): MaybePromise<ActiveCounts>;
  /** Tasks whose files are to be made: waiting for a worker or a render slot, and running; absent on a node that does not record. */
  jobs?(): MaybePromise<{ waiting: number; running: number }>;
}

/** What the runner reports as it works. */
export interface RunnerMetrics {
  rendered(renderSec: number, mediaSec: number): void;
  uploaded(bytes: number): void;
  uploadFailed(kind: 'retried' | 'permanent'): void;
  ended(state: 'completed' | 'failed'): void;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cloudrec_' });
  const registers = [registry];
  let sources: MetricsSources | undefined;

  const requests = new Counter({
    name: 'cloudrec_http_requests_total',
    help: 'Requests answered by this node, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const startDuration = new Histogram({
    name: 'cloudrec_start_duration_seconds',
    help: 'How long a start took to answer, from its first byte to its answer (a 200 after its COMMIT).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  new Gauge({
    name: 'cloudrec_tasks',
    help: 'Tasks recording, finalizing and uploading now, in the database.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      if (!sources) return;
      const counts = await sources.activeTasks();
      for (const state of activeStates) this.set({ state }, counts[state]);
    },
  });
  const ended = new Counter({
    name: 'cloudrec_tasks_ended_total',
    help: 'Tasks this node carried to completed or failed.',
    labelNames: ['state'] as const,
    registers,
  });
  new Gauge({
    name: 'cloudrec_jobs',
    help: 'Tasks whose files are to be made: waiting for a worker or a render slot, and running.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      if (!sources?.jobs) return;
      const { waiting, running } = await sources.jobs();
      this.set({ state: 'waiting' }, waiting);
      this.set({ state: 'running' }, running);
    },
  });
  const renderSeconds = new Counter({ name: 'cloudrec_render_seconds_total', help: 'Seconds this node spent rendering.', registers });
  const mediaSeconds = new Counter({ name: 'cloudrec_rendered_media_seconds_total', help: 'Seconds of media the renders of this node made.', registers });
  const renderRatio = new Histogram({
    name: 'cloudrec_render_seconds_per_media_second',
    help: 'Render seconds per second of media made, render by render.',
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 4],
    registers,
  });
  const uploadBytes = new Counter({ name: 'cloudrec_upload_bytes_total', help: 'Bytes uploaded to buckets by this node.', registers });
  const uploadFailures = new Counter({
    name: 'cloudrec_upload_failures_total',
    help: 'Uploads that failed: retried (a transient failure, tried again) or permanent (the task failed).',
    labelNames: ['kind'] as const,
    registers,
  });

  const webhookAttempts = new Counter({
    name: 'cloudrec_webhook_attempts_total',
    help: 'Attempts this node made to deliver webhook events, by outcome: delivered (a 2xx), failed (to be retried), given_up.',
    labelNames: ['outcome'] as const,
    registers,
  });

  // A start's labels are a few statuses: each child is made once, so counting one costs an increment.
  const startCounters = new Map<number, Counter.Internal>();

  const runner: RunnerMetrics = {
    rendered(renderSec, mediaSec) {
      renderSeconds.inc(renderSec);
      mediaSeconds.inc(mediaSec);
      if (mediaSec > 0) renderRatio.observe(renderSec / mediaSec);
    },
    uploaded: (bytes) => uploadBytes.inc(bytes),
    uploadFailed: (kind) => uploadFailures.inc({ kind }),
    ended: (state) => ended.inc({ state }),
  };

  return {
    registry,
    runner,
    webhooks: { attempted: (outcome: 'delivered' | 'failed' | 'given_up') => webhookAttempts.inc({ outcome }) },
    /** Where the gauges read from, once the stores are open. */
    setSources(given: MetricsSources) {
      sources = given;
    },
    /** A start answered with `status` after `seconds`. */
    started(status: number, seconds: number) {
      let counter = startCounters.get(status);
      if (!counter) startCounters.set(status, (counter = requests.labels('/v1/cloudRecord', 'POST', String(status))));
      counter.inc();
      startDuration.observe(seconds);
    },
    /** Any other request answered (`route`: its pattern, or undefined when no route matched). */
    answered(route: string | undefined, method: string, status: number) {
      requests.inc({ route: route ?? 'unmatched', method, status: String(status) });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
