import t from 'tap';
import { containerdConfig, containerdPaths } from './config.ts';

t.test('containerd config carries the measured settings', async (t) => {
  const paths = containerdPaths('/var/lib/tsk');
  const toml = containerdConfig({ paths, sandboxImage: 'docker.io/tsk/pause:1', cniConfDir: '/var/lib/tsk/agent/etc/cni' });
  t.equal(paths.address, '/var/lib/tsk/agent/containerd/containerd.sock');
  t.match(toml, /^version = 2$/m);
  t.match(toml, /restrict_oom_score_adj = true/);
  t.match(toml, /sandbox_image = "docker.io\/tsk\/pause:1"/);
  t.match(toml, /SystemdCgroup = false/);
  t.match(toml, /bin_dir = "\/usr\/lib\/cni"/);
  t.match(toml, /conf_dir = "\/var\/lib\/tsk\/agent\/etc\/cni"/);
  t.match(toml, /config_path = "\/var\/lib\/tsk\/agent\/containerd\/certs.d"/);
  t.match(toml, /\[metrics\]\n {2}address = ""/);
});

