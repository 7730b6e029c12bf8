#!/bin/sh
# tsk installer: placeholder until the packaging work lands.
echo "install.sh: not available yet" >&2
exit 1
