/**
 * Node options for `tsk agent` only, which V8 takes only before it starts (so not through cmd/agent.ts's
 * AGENT_V8_FLAGS): the single executable re-executes an agent once with them in NODE_OPTIONS (cmd/sea-main.ts), and
 * the build makes the agent bundle's code cache under them (scripts/build-binary.ts).
 * --jitless: no executable code space and no copy of the builtins next to it, regular expressions interpreted
 * (bench:agent: RSS -4 MB, idle CPU unchanged). It also removes WebAssembly, which the bundled agent does not use
 * (Node's TypeScript loader does: a source run, `node cmd/tsk.ts agent`, does not get these options).
 */
export const AGENT_NODE_OPTIONS = ['--jitless'];
