// The list of tsk commands; each lives in its own file and loads its heavy modules lazily.
import { versionCommand } from './version.ts';
import { serverCommand } from './server.ts';
import { agentCommand } from './agent.ts';

export const commands = [serverCommand, agentCommand, versionCommand];
