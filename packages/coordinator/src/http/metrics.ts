import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

import type { WorkerMemoryStatus } from '../core/status.js'

/** One worker's memory, as the metrics read it. */
export interface WorkerMemorySample {
  readonly name: string
  readonly memory: WorkerMemoryStatus | null
}

/**
 * The coordinator's Prometheus metrics. Each coordinator has its own registry, so several
 * coordinators in one process (tests, LocalCluster) do not collide.
 */
export class CoordinatorMetrics {
  readonly registry = new Registry()
  readonly tasksSubmitted = new Counter({
    name: 'clusterpool_tasks_submitted_total',
    help: 'Tasks submitted by clients',
    registers: [this.registry],
  })
  readonly tasksFinished = new Counter({
    name: 'clusterpool_tasks_finished_total',
    help: 'Tasks that ended, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })
  readonly taskDuration = new Histogram({
    name: 'clusterpool_task_duration_seconds',
    help: 'Run time of finished tasks as workers measured it',
    buckets: [0.0001, 0.001, 0.01, 0.1, 1, 10, 100],
    registers: [this.registry],
  })
  /**
   * `taskDuration`'s one series, bound once: it is observed once per result, and the unbound
   * `observe` makes a closure and a label object each time.
   */
  readonly #taskDurations = this.taskDuration.labels()
  readonly tasksByState: Gauge<'state'>
  readonly workers: Gauge
  readonly procs: Gauge
  readonly clients: Gauge
  readonly workerMemory: Gauge<'worker' | 'kind'>
  readonly workerPaused: Gauge<'worker'>
  readonly framesIn = new Counter<'peer'>({
    name: 'clusterpool_frames_received_total',
    help: 'WebSocket frames received from clients and workers, by peer (client, worker)',
    labelNames: ['peer'],
    registers: [this.registry],
  })
  /** `framesIn` by peer, bound once: counting a frame then hashes no labels. */
  readonly clientFrames = this.framesIn.labels({ peer: 'client' })
  readonly workerFrames = this.framesIn.labels({ peer: 'worker' })
  readonly relayedBytes = new Counter({
    name: 'clusterpool_data_relayed_bytes_total',
    help: 'Bytes of values kept on workers that the coordinator relayed (to clients that awaited them, to workers as inputs)',
    registers: [this.registry],
  })

  /**
   * Time the coordinator core spends on one input, by `input`: a worker's batch of messages, a
   * client's, or the periodic tick. It covers the scheduler's calls (it decides inside them) and
   * applying the decisions they made (messages queued to peers), not decoding or sending. The
   * buckets are fine below a millisecond: what operators watch is the tail, which grows when a
   * step costs something per queued task or per worker.
   */
  readonly schedulerStep = new Histogram({
    name: 'clusterpool_scheduler_step_seconds',
    help: "Time the coordinator core took to handle one input (a worker's or a client's batch of messages, or a tick) and apply the scheduler's decisions",
    labelNames: ['input'] as const,
    buckets: [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      2.5,
    ],
    registers: [this.registry],
  })
  /** `schedulerStep` per input, bound once: it is observed on every frame. */
  readonly steps = {
    client: this.schedulerStep.labels('client'),
    worker: this.schedulerStep.labels('worker'),
    tick: this.schedulerStep.labels('tick'),
  }

  readonly protocolErrors = new Counter({
    name: 'clusterpool_protocol_errors_total',
    help: 'Connections closed for breaking the protocol or failing authentication, and reports a peer sent on tasks it does not hold',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })

  constructor(
    sample: () => {
      tasks: Record<string, number>
      workers: number
      procs: number
      clients: number
    },
    memory: () => readonly WorkerMemorySample[] = () => [],
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'clusterpool_coordinator_' })
    this.tasksByState = new Gauge({
      name: 'clusterpool_tasks',
      help: 'Tasks the coordinator knows, by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        for (const [state, n] of Object.entries(sample().tasks)) this.set({ state }, n)
      },
    })
    this.workers = new Gauge({
      name: 'clusterpool_workers',
      help: 'Connected worker daemons',
      registers: [this.registry],
      collect() {
        this.set(sample().workers)
      },
    })
    this.procs = new Gauge({
      name: 'clusterpool_procs',
      help: 'Task processes over all workers',
      registers: [this.registry],
      collect() {
        this.set(sample().procs)
      },
    })
    this.workerMemory = new Gauge({
      name: 'clusterpool_worker_memory_bytes',
      help: "Workers' memory from their last heartbeat, by kind: managed (held values in memory), spilled (on disk), unmanaged (RSS less managed), rss, limit",
      labelNames: ['worker', 'kind'] as const,
      registers: [this.registry],
      collect() {
        this.reset()
        for (const { name, memory: m } of memory()) {
          if (m === null) continue
          this.set({ worker: name, kind: 'managed' }, m.managedBytes)
          this.set({ worker: name, kind: 'spilled' }, m.spilledBytes)
          this.set({ worker: name, kind: 'unmanaged' }, m.unmanagedBytes)
          this.set({ worker: name, kind: 'rss' }, m.rssBytes)
          this.set({ worker: name, kind: 'limit' }, m.limitBytes)
        }
      },
    })
    this.workerPaused = new Gauge({
      name: 'clusterpool_worker_memory_paused',
      help: 'Workers over their memory pause fraction (1), taking no new tasks',
      labelNames: ['worker'] as const,
      registers: [this.registry],
      collect() {
        this.reset()
        for (const { name, memory: m } of memory())
          if (m !== null) this.set({ worker: name }, m.paused ? 1 : 0)
      },
    })
    this.clients = new Gauge({
      name: 'clusterpool_clients',
      help: 'Connected clients',
      registers: [this.registry],
      collect() {
        this.set(sample().clients)
      },
    })
  }

  /** A finished task's run time, as its worker measured it. Seconds. */
  observeTaskDuration(seconds: number): void {
    this.#taskDurations.observe(seconds)
  }
}
