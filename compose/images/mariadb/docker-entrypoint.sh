#!/bin/sh
# Keeps the official mariadb/mysql images' contract: MARIADB_* or MYSQL_*, or their *_FILE forms (ROOT_PASSWORD,
# ALLOW_EMPTY_ROOT_PASSWORD, RANDOM_ROOT_PASSWORD, DATABASE, USER, PASSWORD), data in
# /var/lib/mysql, /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh on first start, then the server
# (`mariadbd` or `mysqld`, with any extra arguments) as the mysql user.
set -eu
case "${1:-}" in -*) set -- mariadbd "$@" ;; esac
case "${1:-}" in mysqld|mariadbd) ;; *) exec "$@" ;; esac
shift
set -- mariadbd "$@"
DATADIR=/var/lib/mysql

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$DATADIR" /run/mysqld
  if [ "$(stat -c %U "$DATADIR")" != mysql ]; then chown -R mysql:mysql "$DATADIR"; fi
  chown mysql:mysql /run/mysqld
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi

# each also as <NAME>_FILE (a Compose or Docker secret holding the value), as the official images read it
v() {
  eval "a=\${MARIADB_$1:-}"; eval "b=\${MYSQL_$1:-}"; eval "fa=\${MARIADB_${1}_FILE:-}"; eval "fb=\${MYSQL_${1}_FILE:-}"
  f="${fa:-$fb}"
  if [ -z "${a:-$b}" ] && [ -n "$f" ]; then cat "$f"; else printf '%s' "${a:-$b}"; fi
}
ROOT_PASSWORD="$(v ROOT_PASSWORD)"
ALLOW_EMPTY="$(v ALLOW_EMPTY_ROOT_PASSWORD)"
RANDOM_ROOT="$(v RANDOM_ROOT_PASSWORD)"
DATABASE="$(v DATABASE)"
USER_NAME="$(v USER)"
USER_PASSWORD="$(v PASSWORD)"

if [ ! -d "$DATADIR/mysql" ]; then
  if [ -z "$ROOT_PASSWORD" ] && [ -z "$ALLOW_EMPTY" ] && [ -z "$RANDOM_ROOT" ]; then
    echo "error: database is uninitialized and the root password is not set" >&2
    echo "       set one of MARIADB_ROOT_PASSWORD (MYSQL_ROOT_PASSWORD), MARIADB_ALLOW_EMPTY_ROOT_PASSWORD, MARIADB_RANDOM_ROOT_PASSWORD" >&2
    exit 1
  fi
  if [ -n "$RANDOM_ROOT" ]; then ROOT_PASSWORD="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"; echo "GENERATED ROOT PASSWORD: $ROOT_PASSWORD"; fi
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal >/dev/null
  # Initialise on the socket only, so TCP health checks stay red until the real server runs.
  "$@" --skip-networking --socket=/run/mysqld/mysqld.sock &
  pid=$!
  i=0
  until mariadb-admin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1; do
    i=$((i + 1)); if [ $i -gt 60 ]; then echo "error: the server did not start for initialisation" >&2; exit 1; fi; sleep 0.5
  done
  sql() { mariadb --socket=/run/mysqld/mysqld.sock -uroot "$@"; }
  esc() { printf '%s' "$1" | sed "s/'/''/g; s/\\\\/\\\\\\\\/g"; }
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.user WHERE user='' OR (user='root' AND host NOT IN ('localhost'));"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(esc "$ROOT_PASSWORD")';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '$(esc "$ROOT_PASSWORD")'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    for h in 127.0.0.1 ::1 localhost; do echo "CREATE USER 'healthcheck'@'$h' IDENTIFIED BY 'healthcheck';"; done
    if [ -n "$DATABASE" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$DATABASE\`;"; fi
    if [ -n "$USER_NAME" ]; then
      echo "CREATE USER '$(esc "$USER_NAME")'@'%' IDENTIFIED BY '$(esc "$USER_PASSWORD")';"
      if [ -n "$DATABASE" ]; then echo "GRANT ALL ON \`$DATABASE\`.* TO '$(esc "$USER_NAME")'@'%';"; fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | sql
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; . "$f" ;;
      *.sql) echo "running $f"; sql -p"$ROOT_PASSWORD" ${DATABASE:+"$DATABASE"} < "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | sql -p"$ROOT_PASSWORD" ${DATABASE:+"$DATABASE"} ;;
      *) ;;
    esac
  done
  kill "$pid"; wait "$pid" || true
  echo "MariaDB init process done. Ready for start up."
fi
exec "$@"
