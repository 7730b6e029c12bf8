// The list of tsk commands; each lives in its own file and loads its heavy modules lazily.
import { versionCommand } from './version.ts';
import { serverCommand } from './server.ts';
import { agentCommand } from './agent.ts';
import { tokenCommand } from './token.ts';
import { certificateCommand } from './certificate.ts';
import { secretsEncryptCommand } from './secrets-encrypt.ts';
import { snapshotCommand } from './snapshot.ts';
import { killallCommand } from './killall.ts';

export const commands = [serverCommand, agentCommand, tokenCommand, certificateCommand, secretsEncryptCommand, versionCommand, snapshotCommand, killallCommand];
