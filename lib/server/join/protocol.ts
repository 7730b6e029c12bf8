// The join protocol's paths, headers and bodies, shared by the server (join-service.ts) and the agent
// (lib/agent/join/join.ts) without pulling the server's authentication and certificate signing into the agent.
export const JOIN_PATH = '/v1-tsk/join';
export const CACERTS_PATH = '/cacerts';
export const NODE_NAME_HEADER = 'tsk-node-name';
export const NODE_PASSWORD_HEADER = 'tsk-node-password';

export interface JoinRequestBody {
  nodeName: string;
  clientCsr: string;
  servingCsr: string;
}

export interface JoinResponseBody {
  clientCert: string;
  servingCert: string;
  /** The server CA bundle (to verify the API server). */
  serverCa: string;
  /** The client CA (kubelets use it to verify the API server's client certificate when it calls them). */
  clientCa: string;
}
