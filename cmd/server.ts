import type { CommandModule } from 'yargs';
import { DEFAULTS, type ServerConfig } from '../lib/config.ts';
import { commonConfig, nodeFlags, shutdownSignal } from './common-flags.ts';
import { setupLogging } from './cli.ts';

export const serverCommand: CommandModule = {
  command: 'server',
  describe: 'run the control plane (and a node unless --disable-agent)',
  builder: (y) =>
    nodeFlags(y)
      .option('https-listen-port', { type: 'number', default: DEFAULTS.httpsListenPort, describe: 'HTTPS listen port' })
      .option('bind-address', { type: 'string', default: '0.0.0.0', describe: 'address the API server binds' })
      .option('token', { alias: 't', type: 'string', describe: 'shared secret used to join agents' })
      .option('write-kubeconfig', { alias: 'o', type: 'string', default: DEFAULTS.kubeconfig, describe: 'write the admin kubeconfig here' })
      .option('write-kubeconfig-mode', { type: 'string', describe: 'file mode of the kubeconfig, e.g. 644' })
      .option('secrets-encryption', { type: 'boolean', default: false, describe: 'encrypt Secrets at rest (AES-GCM, key under <data-dir>/server/cred)' })
      .option('disable-agent', { type: 'boolean', default: false, describe: 'do not run a node in this process' })
      .option('tls-san', { type: 'array', string: true, default: [] as string[], describe: 'extra hostnames or IPs in the serving certificate' })
      .option('disable', { type: 'array', string: true, default: [] as string[], describe: 'do not run these packaged components (servicelb, coredns, ...)' })
      .option('insecure-http-loopback', { type: 'number', hidden: true, describe: 'development: serve plain HTTP on 127.0.0.1:PORT' })
      .option('sim-nodes', { type: 'number', hidden: true, describe: 'benchmarks: register simulated nodes' })
      .check((a) => {
        const port = a.httpsListenPort as number;
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--https-listen-port ${String(a.httpsListenPort)} is not a port number (1-65535)`);
        if (a.writeKubeconfigMode !== undefined && !/^[0-7]{3,4}$/.test(String(a.writeKubeconfigMode))) throw new Error(`--write-kubeconfig-mode ${String(a.writeKubeconfigMode)} is not an octal file mode such as 644`);
        return true;
      }),
  async handler(a) {
    setupLogging(a as never);
    const config: ServerConfig = {
      ...commonConfig(a),
      httpsListenPort: a.httpsListenPort as number,
      bindAddress: String(a.bindAddress),
      token: a.token as string | undefined,
      writeKubeconfig: String(a.writeKubeconfig),
      writeKubeconfigMode: a.writeKubeconfigMode === undefined ? undefined : String(a.writeKubeconfigMode),
      disableAgent: Boolean(a.disableAgent),
      secretsEncryption: Boolean(a.secretsEncryption),
      tlsSan: (a.tlsSan as string[]).flatMap((s) => s.split(',')).filter(Boolean),
      disable: (a.disable as string[]).flatMap((s) => s.split(',')).filter(Boolean),
      insecureHttpLoopbackPort: a.insecureHttpLoopback as number | undefined,
      simNodes: a.simNodes as number | undefined,
    };
    const { runServer } = await import('../lib/server/run.ts');
    await runServer(config, shutdownSignal());
  },
};
