// Single-executable build: filled by the packaging work. For now `npm run build` makes a launcher.
console.error('build-binary: not implemented yet; use npm run build');
process.exit(1);
