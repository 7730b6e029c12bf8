#!/usr/bin/env node
// The tsk executable: parse the command line and run the chosen command.
import { main } from './cli.ts';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`tsk: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
