// What every controller gets from the manager, and the shape the manager's list expects.
import type { Client, ResourceRef } from '../client/types.ts';
import type { Clock } from '../clock.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { SharedInformerFactory } from '../controller/factory.ts';

export interface ControllerContext {
  client: Client;
  /** Shared informers: ask it for one per resource; the manager starts them all after every controller's init. */
  factory: SharedInformerFactory;
  clock: Clock;
  /** An event recorder reporting as `component` (e.g. 'deployment-controller'). */
  recorder(component: string): EventRecorder;
  /** PEM of the cluster CA for kube-root-ca.crt. */
  caPem?: string;
  /**
   * Namespaced resources the namespace controller empties on deletion. A function is asked on every namespace
   * deletion, so resources added at run time (CRDs) are included; absent: a built-in list.
   */
  namespacedResources?: ResourceRef[] | (() => ResourceRef[]);
  /** Signs an approved CSR (lib/server/pki/csr-sign.ts); absent: the csrsigning controller idles. */
  signCsr?: CsrSigner;
  /** Pod GC threshold of terminated pods (Kubernetes: 12500). */
  terminatedPodGCThreshold?: number;
}

/** A certificate (PEM) for a request, a reason the signer refuses it, or undefined for another signer's request. */
export type CsrSigner = (r: { request: string; signerName: string; usages: string[]; expirationSeconds?: number }) => Promise<{ certificate: string } | { failed: string } | undefined>;

/** A controller's run loop: resolves once signal aborts and its workers returned. */
export interface Runnable {
  run(signal: AbortSignal): Promise<void>;
}

/** Wires informers and handlers synchronously (before the factory starts) and returns the run loop. */
export type ControllerInit = (ctx: ControllerContext) => Runnable;
