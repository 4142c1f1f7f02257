#!/bin/sh
# Keeps the official rabbitmq image's contract: RABBITMQ_DEFAULT_USER/PASS/VHOST, data in
# /var/lib/rabbitmq (node name rabbit@<hostname>), logs on stdout, then `rabbitmq-server`.
set -eu
if [ "${1:-}" != "rabbitmq-server" ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  conf=/etc/rabbitmq/conf.d/10-defaults.conf
  {
    echo "loopback_users.guest = false"
    echo "listeners.tcp.default = 5672"
    echo "management.tcp.port = 15672"
    if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then echo "default_user = ${RABBITMQ_DEFAULT_USER}"; fi
    if [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"; fi
    if [ -n "${RABBITMQ_DEFAULT_VHOST:-}" ]; then echo "default_vhost = ${RABBITMQ_DEFAULT_VHOST}"; fi
  } > "$conf"
  mkdir -p /var/lib/rabbitmq /var/log/rabbitmq
  # A fresh volume (Kubernetes PVC) is root-owned: hand it to rabbitmq, then drop root.
  if [ "$(stat -c %U /var/lib/rabbitmq)" != rabbitmq ]; then chown -R rabbitmq:rabbitmq /var/lib/rabbitmq; fi
  chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/log/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$0" "$@"
fi
export HOME=/var/lib/rabbitmq
exec "$@"
