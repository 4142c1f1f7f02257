#!/bin/sh
# Keeps the official redis image's contract: data in /data (WORKDIR), `redis-server [args]`
# (or `redis-server /path/redis.conf args`) run as the redis user, and protected mode off as the
# official image does (Debian's redis-server keeps it on without a config file, refusing remote
# clients). A first argument starting with `-` is taken as redis-server's.
set -eu
case "${1:-}" in -*) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ]; then
  shift
  conf=""
  case "${1:-}" in *.conf) conf="$1"; shift ;; esac
  set -- redis-server $conf --protected-mode no --dir /data "$@"
  if [ "$(id -u)" = 0 ]; then
    if [ "$(stat -c %U /data)" != redis ]; then chown -R redis:redis /data; fi
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
