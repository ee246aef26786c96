#!/bin/sh
# The one command on a fresh machine (`npm run up`): install what berth needs (Node 24 comes from npm
# as a dev dependency), start the berth daemon in the background, deploy examples/hello, print its URL.
set -e
cd "$(dirname "$0")/.."
if [ ! -x node_modules/node/bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (Node 24 included) with npm ci ..."
  npm ci --no-audit --no-fund --loglevel=error
fi
exec bin/berth up "$@"
