// The node's container runtime, ready for the kubelet: containerd supervised by tsk (or an existing CRI endpoint),
// registries.yaml rendered into hosts.toml files, the pause image imported, the air-gap directory watched and
// image garbage collection running.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../../clock.ts';
import { logger } from '../../log/logger.ts';
import { GrpcCri } from '../cri/grpc.ts';
import type { CriRuntime } from '../cri/types.ts';
import { watchAirgap } from '../images/airgap.ts';
import { PAUSE_IMAGE, pauseImageArchive } from '../images/builtin.ts';
import { startImageGc } from '../images/gc.ts';
import { ImageImporter } from '../images/import.ts';
import { parseRegistries, renderHostsToml, type RegistriesConfig } from '../images/registries.ts';
import { containerdPaths, hostPortTwin } from './config.ts';
import { startContainerd, type SupervisedContainerd } from './supervisor.ts';

const log = logger('agent/containerd');

export interface ContainerRuntimeOptions {
  dataDir: string;
  signal: AbortSignal;
  /** Use this CRI endpoint (unix://...) instead of supervising containerd; images are then imported with ctr on it. */
  containerRuntimeEndpoint?: string;
  /** CNI conflist directory containerd reads (default <data-dir>/agent/etc/cni/net.d). */
  cniConfDir?: string;
  /** Default /etc/tsk/registries.yaml. */
  registriesFile?: string;
  /** Tests: run containerd inside this network namespace. */
  netns?: string;
  clock?: Clock;
  airgapPollMs?: number;
  imageGcPeriodMs?: number;
  /**
   * Runtime handlers besides runc for the supervised containerd: name -> OCI runtime binary (default: findRuntimes()).
   * crun costs less CPU per container (C instead of Go; the shim runs the runtime ~6 times per pod) but 1.8 refuses
   * hybrid cgroup hosts whose cgroup2 has controllers.
   */
  runtimes?: Record<string, string>;
  /** The handler of pods whose RuntimeClass names none (--default-runtime; default runc). */
  defaultRuntime?: string;
}

/** OCI runtimes besides runc that the runc shim can run, found on PATH as k3s finds them: crun. */
export const OPTIONAL_RUNTIMES = ['crun'] as const;

export function findRuntimes(path = process.env.PATH ?? ''): Record<string, string> {
  const out: Record<string, string> = {};
  const dirs = [...path.split(':').filter(Boolean), '/usr/local/bin', '/usr/bin'];
  for (const name of OPTIONAL_RUNTIMES) {
    const dir = dirs.find((d) => existsSync(join(d, name)));
    if (dir) out[name] = join(dir, name);
  }
  return out;
}

export interface ContainerRuntime {
  cri: CriRuntime;
  endpoint: string;
  importer: ImageImporter;
  registries?: RegistriesConfig;
  cniConfDir: string;
  pauseImage: string;
  containerd?: SupervisedContainerd;
  stop(): Promise<void>;
}

/** Writes <certs.d>/<host>/hosts.toml for every registry in registries.yaml; removes stale ones we generated. */
export function writeRegistryHosts(certsDir: string, cfg: RegistriesConfig | undefined): void {
  mkdirSync(certsDir, { recursive: true });
  const files = cfg ? renderHostsToml(cfg) : new Map<string, string>();
  for (const [rel, text] of files) {
    const p = join(certsDir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text, { mode: 0o600 });
  }
  const marker = join(certsDir, '.tsk-hosts');
  const previous = existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : [];
  for (const rel of previous) if (!files.has(rel)) rmSync(dirname(join(certsDir, rel)), { recursive: true, force: true });
  writeFileSync(marker, [...files.keys()].join('\n'));
}

export async function startContainerRuntime(o: ContainerRuntimeOptions): Promise<ContainerRuntime> {
  const cniConfDir = o.cniConfDir ?? join(o.dataDir, 'agent', 'etc', 'cni', 'net.d');
  const registriesFile = o.registriesFile ?? '/etc/tsk/registries.yaml';
  let registries: RegistriesConfig | undefined;
  if (existsSync(registriesFile)) {
    registries = parseRegistries(readFileSync(registriesFile, 'utf8'));
    log.info('using registries.yaml', { file: registriesFile, mirrors: Object.keys(registries.mirrors ?? {}) });
  }
  let containerd: SupervisedContainerd | undefined;
  let handlers: { runtimes: Record<string, string>; defaultRuntime: string } | undefined;
  let endpoint: string;
  let address: string;
  if (o.containerRuntimeEndpoint) {
    endpoint = o.containerRuntimeEndpoint;
    address = endpoint.replace(/^unix:\/\//, '');
  } else {
    writeRegistryHosts(containerdPaths(o.dataDir).certsDir, registries);
    const runtimes = o.runtimes ?? findRuntimes();
    const defaultRuntime = o.defaultRuntime || 'runc';
    if (defaultRuntime !== 'runc' && !runtimes[defaultRuntime]) {
      throw new Error(`--default-runtime ${defaultRuntime}: no such runtime on this host (have: ${['runc', ...Object.keys(runtimes)].join(', ')})`);
    }
    if (Object.keys(runtimes).length) log.info('runtime handlers', { default: defaultRuntime, more: runtimes });
    handlers = { runtimes, defaultRuntime };
    containerd = startContainerd({ dataDir: o.dataDir, signal: o.signal, sandboxImage: PAUSE_IMAGE, cniConfDir, netns: o.netns, clock: o.clock, ...handlers });
    await containerd.ready;
    endpoint = containerd.endpoint;
    address = containerd.paths.address;
  }
  const hs = handlers;
  const cri = new GrpcCri({ endpoint, hostPortHandler: hs ? (h) => hostPortTwin(h, hs) : undefined });
  const importer = new ImageImporter({ address, tmpDir: join(o.dataDir, 'agent') });
  if (!(await cri.imageStatus(PAUSE_IMAGE))) await importer.importBuffer('pause', pauseImageArchive());
  await watchAirgap({ dir: join(o.dataDir, 'agent', 'images'), importer, signal: o.signal, clock: o.clock, pollMs: o.airgapPollMs });
  startImageGc({ cri, keep: [PAUSE_IMAGE], signal: o.signal, clock: o.clock, periodMs: o.imageGcPeriodMs });
  return {
    cri, endpoint, importer, registries, cniConfDir, pauseImage: PAUSE_IMAGE, containerd,
    async stop() {
      cri.close();
      await containerd?.stop();
    },
  };
}
