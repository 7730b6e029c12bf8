// Controller runtime: informers, shared factory, listers, work queue, controller helper, leader election.
export { Cache, keyOf, splitKey, deepFreeze, byNamespace, byNodeName, byOwnerUid, type Lister, type IndexFunc } from './cache.ts';
export { Informer, type EventHandler, type InformerOptions } from './informer.ts';
export { SharedInformerFactory, type InformerFactoryOptions, type InformerQuery } from './factory.ts';
export { WorkQueue, type WorkQueueOptions } from './work-queue.ts';
export { ExponentialBackoff, TokenBucket, MaxOf, defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';
export { Controller, type ControllerOptions } from './controller.ts';
export { ClientEventRecorder, nullRecorder, type EventRecorder, type EventRecorderOptions } from './events.ts';
export { Expectations } from './expectations.ts';
export { LeaderElector, microTime, type LeaderElectionOptions, type Lease } from './leader-election.ts';
export { matchesSelector, matchesRequirement, selectorToString, isEmptySelector, type LabelSelector, type LabelSelectorRequirement } from './selector.ts';
