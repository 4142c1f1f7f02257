#!/bin/sh
# The official mariadb image's healthcheck.sh, for the common flags: --connect, --innodb_initialized
# (and --su-mysql, which is implied). Any other flag is treated like --connect.
set -eu
for a in "$@"; do
  case "$a" in
    --innodb_initialized)
      mariadb --protocol=tcp -h127.0.0.1 -uhealthcheck -phealthcheck -Nse "select 1 from information_schema.ENGINES where engine='InnoDB' and support in ('YES','DEFAULT')" | grep -q 1 || exit 1 ;;
  esac
done
exec mariadb-admin --protocol=tcp -h127.0.0.1 -uhealthcheck -phealthcheck ping >/dev/null
