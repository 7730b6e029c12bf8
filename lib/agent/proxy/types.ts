// The service proxy's input: everything renderRules needs, already resolved from Services and EndpointSlices.
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** The endpoint runs on this node (for the Local traffic policies). */
  local: boolean;
}

export interface ProxyServicePort {
  namespace: string;
  name: string;
  /** The service port's name ('' when unnamed). */
  portName: string;
  protocol: Protocol;
  clusterIP?: string;
  port: number;
  nodePort?: number;
  /** spec.externalIPs and status.loadBalancer.ingress[].ip: reachable like a NodePort, on the service port. */
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** spec.loadBalancerSourceRanges: when set, only these sources may use the load balancer IPs. */
  sourceRanges?: string[];
  /** sessionAffinity ClientIP timeout in seconds; undefined when affinity is None. */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  /** Endpoints chosen for traffic (ready ones, or serving+terminating ones when none is ready). */
  endpoints: ProxyEndpoint[];
}

export interface ProxyState {
  /** The cluster (pod) CIDR: traffic from outside it to a cluster IP is masqueraded. */
  clusterCidr?: string;
  services: ProxyServicePort[];
}

export const MASQ_MARK = '0x4000/0x4000';
