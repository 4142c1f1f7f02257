#!/bin/sh
# rabbitmqctl, rabbitmq-diagnostics, ... without Debian's root wrapper: /usr/sbin/<tool> runs the
# tool under `runuser`, which forks, so when Docker kills a health check that ran out of time it
# kills runuser and the tool's Erlang VM lives on (seen: 60 of them on a busy host). Here the tool
# replaces this process (exec, no fork), so the process Docker kills is the VM itself.
tool=/usr/lib/rabbitmq/bin/$(basename "$0")
cd /var/lib/rabbitmq 2>/dev/null || cd /
export HOME=/var/lib/rabbitmq
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$tool" "$@"
fi
exec "$tool" "$@"
