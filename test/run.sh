#!/usr/bin/env bash
# The whole test suite: system packages, then tap over every *.test.ts, then the plain count line.
set -u
cd "$(dirname "$0")/.."
bash test/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p .tap
# tap compiles its plugin list (package.json "tap.plugin": no ts-node; Node strips types itself)
node_modules/.bin/tap build >/dev/null
node_modules/.bin/tap --reporter=tap --reporter-file=.tap/report.tap "$@" > >(tee .tap/out.txt) 2>&1
rc=$?
sleep 1
node test/summary.ts .tap/report.tap
exit $rc
