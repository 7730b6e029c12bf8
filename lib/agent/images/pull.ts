// Image pulls per imagePullPolicy, with credentials from imagePullSecrets (kubernetes.io/dockerconfigjson or
// dockercfg) and from /etc/tsk/registries.yaml.
import type { AuthConfig, CriRuntime } from '../cri/types.ts';
import type { KubeObject } from '../../client/types.ts';
import type { RegistriesConfig } from './registries.ts';

export class ImagePullError extends Error {
  readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName';
  constructor(reason: ImagePullError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Normalizes an image reference the way containerd does: docker.io/library/x:latest. */
export function normalizeImage(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) { suffix = name.slice(at); name = name.slice(0, at); }
  const lastColon = name.lastIndexOf(':');
  if (lastColon > name.lastIndexOf('/')) { suffix = name.slice(lastColon) + suffix; name = name.slice(0, lastColon); }
  else if (!suffix) suffix = ':latest';
  const first = name.split('/')[0]!;
  const hasHost = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasHost) name = `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  return name + suffix;
}

export const registryHost = (ref: string): string => normalizeImage(ref).split('/')[0]!;

export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const n = normalizeImage(image);
  return n.endsWith(':latest') && !n.includes('@') ? 'Always' : 'IfNotPresent';
}

/** Credentials for image from pull secrets (first match) or registries.yaml configs. */
export function authFor(image: string, secrets: KubeObject[], registries?: RegistriesConfig): AuthConfig | undefined {
  const host = registryHost(image);
  const hosts = host === 'docker.io' ? ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'] : [host];
  for (const s of secrets) {
    let auths: Record<string, { auth?: string; username?: string; password?: string }> | undefined;
    try {
      if (s.type === 'kubernetes.io/dockerconfigjson' && s.data?.['.dockerconfigjson']) auths = JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString()).auths;
      else if (s.type === 'kubernetes.io/dockercfg' && s.data?.['.dockercfg']) auths = JSON.parse(Buffer.from(s.data['.dockercfg'], 'base64').toString());
    } catch { continue; }
    for (const [k, v] of Object.entries(auths ?? {})) {
      const kh = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      if (!hosts.includes(kh) && !hosts.includes(k)) continue;
      let { username, password } = v;
      if (v.auth && !username) [username, password] = Buffer.from(v.auth, 'base64').toString().split(/:(.*)/s) as [string, string];
      return { username, password, server_address: kh };
    }
  }
  const rc = registries?.configs?.[host]?.auth;
  if (rc) return { username: rc.username, password: rc.password, auth: rc.auth, identity_token: rc.identity_token };
  return undefined;
}

export interface EnsureImageOptions {
  cri: Pick<CriRuntime, 'imageStatus' | 'pullImage'>;
  image: string;
  policy?: 'Always' | 'IfNotPresent' | 'Never';
  secrets: KubeObject[];
  registries?: RegistriesConfig;
  /** The kubelet's pod events for the image (Pulling, Pulled, Failed), worded as upstream. */
  onEvent?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
  /** Called once before a pull starts (the kubelet posts the pod's status first: a pull may take long). */
  beforePull?: () => Promise<void>;
}

/** Returns the image reference to run; throws ImagePullError. */
export async function ensureImage(o: EnsureImageOptions): Promise<string> {
  if (!o.image) throw new ImagePullError('InvalidImageName', 'image is empty');
  const policy = o.policy ?? defaultPullPolicy(o.image);
  const event = o.onEvent ?? (() => {});
  const present = await o.cri.imageStatus(o.image);
  const alreadyPresent = () => { event('Normal', 'Pulled', `Container image "${o.image}" already present on machine`); return o.image; };
  if (present && policy !== 'Always') return alreadyPresent();
  if (policy === 'Never') {
    if (present) return alreadyPresent();
    const message = `Container image "${o.image}" is not present with pull policy of Never`;
    event('Warning', 'ErrImageNeverPull', message);
    throw new ImagePullError('ErrImageNeverPull', message);
  }
  await o.beforePull?.().catch(() => {});
  try {
    event('Normal', 'Pulling', `Pulling image "${o.image}"`);
    const t0 = performance.now();
    // With a local copy (policy Always) a slow or unreachable registry must not hold the pod for long.
    await o.cri.pullImage(o.image, { auth: authFor(o.image, o.secrets, o.registries), timeoutMs: present ? 30_000 : undefined });
    event('Normal', 'Pulled', `Successfully pulled image "${o.image}" in ${((performance.now() - t0) / 1000).toFixed(3)}s`);
    return o.image;
  } catch (e) {
    // Always with the image present locally and the registry unreachable: run what we have (air-gapped nodes).
    if (present) return alreadyPresent();
    const message = `failed to pull image "${o.image}": ${e instanceof Error ? e.message : String(e)}`;
    event('Warning', 'Failed', `Failed to pull image "${o.image}": ${e instanceof Error ? e.message : String(e)}`);
    throw new ImagePullError('ErrImagePull', message);
  }
}
