#!/bin/sh
# urbac-entrypoint - the container's command (Dockerfile): brings the store up to
# date (`urbac init` creates the SQLite store in the volume on the first start), then
# serves it. Environment: URBAC_DB (the store), URBAC_LISTEN (HOST:PORT),
# URBAC_PRESHARED_KEY_FILE (the bootstrap administrator keys, a mounted secret; used
# when the file exists). Arguments are added to `urbac serve`'s (urbac-serve(1)).
set -eu
urbac init > /dev/null
if [ -n "${URBAC_PRESHARED_KEY_FILE:-}" ] && [ -f "$URBAC_PRESHARED_KEY_FILE" ]; then
  set -- --preshared-key-file "$URBAC_PRESHARED_KEY_FILE" "$@"
fi
exec urbac serve --listen "${URBAC_LISTEN:-0.0.0.0:8080}" "$@"
