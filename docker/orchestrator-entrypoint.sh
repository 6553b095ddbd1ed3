#!/bin/sh
# Start Valkey with the ai module. Optional: SR_DB_PASSWORD (the server's requirepass, written to a
# private config file so that it appears on no command line), PORT (default 6379).
set -eu
SERVER=$(python -c 'import smartsim_ai; print(smartsim_ai.find_server().path)')
MODULE=$(python -c 'import smartsim_ai; print(smartsim_ai.module_path())')
CONF=$(mktemp)
chmod 600 "$CONF"
if [ -n "${SR_DB_PASSWORD:-}" ]; then
  quoted=$(printf '%s' "$SR_DB_PASSWORD" | sed 's/\\/\\\\/g; s/"/\\"/g')
  printf 'requirepass "%s"\n' "$quoted" > "$CONF"
else
  # no password: reachable by anyone who reaches the port (see docs/security.md)
  printf 'protected-mode no\n' > "$CONF"
fi
exec "$SERVER" "$CONF" --port "${PORT:-6379}" --bind 0.0.0.0 --loadmodule "$MODULE" "$@"
