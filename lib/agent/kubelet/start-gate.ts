// Bounds how many sandbox and container starts the kubelet runs at once. Each start is mostly CPU in containerd, the
// shim, runc and the CNI plugins (programs run per start), so a burst of 30 pods started at once on 2 cores makes every
// pod wait for all the others: they all become Running late, together. With a few slots the node does the same work
// but pods finish one after another. Container starts of pods whose sandbox exists go before new sandboxes, so a pod
// once begun is finished first. Image pulls and volume set-up stay outside the gate.
import { availableParallelism } from 'node:os';

export type StartKind = 'sandbox' | 'container';

/**
 * Default slots: three per CPU, at least 3. A start is CPU for about half its time on a quiet 2-core machine (the rest
 * waits on fsync and on its child processes), so fewer slots would leave CPU idle, and on a machine shared with other
 * work a bounded node gets a smaller CPU share than 30 starts at once would.
 */
export function defaultStartSlots(cpus = availableParallelism()): number {
  return Math.max(3, 3 * cpus);
}

export class StartGate {
  #limit: number;
  #active = 0;
  #waiting: Record<StartKind, (() => void)[]> = { container: [], sandbox: [] };

  /** limit <= 0 or Infinity: no bound. */
  constructor(limit: number) {
    this.#limit = limit > 0 ? limit : Infinity;
  }

  /** Runs fn once a slot is free (container starts first); the slot is freed when fn settles. */
  async run<T>(kind: StartKind, fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((r) => this.#waiting[kind].push(r));
    else this.#active++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.container.shift() ?? this.#waiting.sandbox.shift();
      if (next) next(); // the slot passes to the next waiter
      else this.#active--;
    }
  }

  /** Starts running and waiting (tests, logs). */
  stats(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.container.length + this.#waiting.sandbox.length };
  }
}
