// Pod traffic masquerade and forwarding rules (chains TSK-NET-*), as iptables-restore text. Pure.
//   pod → pod (anywhere in the cluster CIDR): not masqueraded
//   pod → outside the cluster CIDR: masqueraded (multicast excepted)
//   host/outside → another node's pods: masqueraded so replies come back through the overlay
export interface NetRulesOptions { clusterCidr: string; podCidr?: string }

export const NET_CHAINS = { nat: ['TSK-NET-POSTROUTING'], filter: ['TSK-NET-FORWARD'] } as const;

export function renderNetRules(o: NetRulesOptions): string {
  const c = (t: string) => `-m comment --comment "${t}"`;
  const nat = [
    '*nat',
    ':TSK-NET-POSTROUTING - [0:0]',
    `-A TSK-NET-POSTROUTING -s ${o.clusterCidr} -d ${o.clusterCidr} ${c('tsk pod to pod: no masquerade')} -j RETURN`,
    `-A TSK-NET-POSTROUTING -s ${o.clusterCidr} ! -d 224.0.0.0/4 ${c('tsk pod to outside: masquerade')} -j MASQUERADE --random-fully`,
    ...(o.podCidr ? [`-A TSK-NET-POSTROUTING ! -s ${o.clusterCidr} -d ${o.podCidr} ${c('tsk host to local pods')} -j RETURN`] : []),
    `-A TSK-NET-POSTROUTING ! -s ${o.clusterCidr} -d ${o.clusterCidr} ${c('tsk host to remote pods: masquerade')} -j MASQUERADE --random-fully`,
    'COMMIT',
  ];
  const filter = [
    '*filter',
    ':TSK-NET-FORWARD - [0:0]',
    `-A TSK-NET-FORWARD -s ${o.clusterCidr} ${c('tsk pod traffic')} -j ACCEPT`,
    `-A TSK-NET-FORWARD -d ${o.clusterCidr} ${c('tsk pod traffic')} -j ACCEPT`,
    'COMMIT',
  ];
  return [...filter, ...nat, ''].join('\n');
}

export const NET_JUMPS = [
  { table: 'nat', chain: 'POSTROUTING', rule: ['-m', 'comment', '--comment', 'tsk pod masquerade', '-j', 'TSK-NET-POSTROUTING'] },
  { table: 'filter', chain: 'FORWARD', rule: ['-m', 'comment', '--comment', 'tsk pod forwarding', '-j', 'TSK-NET-FORWARD'] },
] as const;
