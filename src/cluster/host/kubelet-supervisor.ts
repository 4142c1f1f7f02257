import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HOST, pidFile } from '../build/cache.js';
import { livePid, readPid, startDaemon, stopDaemon } from './daemon.js';

/**
 * The stand-in for kubelet.service + 10-kubeadm.conf on a host without systemd: a shell loop
 * that waits until kubeadm's kubelet-start phase has written the kubelet's config, runs the
 * kubelet with kubeadm's flags (read fresh each time), and restarts it 2 s after any exit
 * (Restart=always). The kubelet's pid is written to /run/stackport/kubelet.pid.
 */
export function supervisorScript(kubelet: string): string {
  return `#!/bin/bash
# stackport kubelet supervisor (src/cluster/kubelet-supervisor.ts)
KUBELET='${kubelet}'
PIDFILE='${pidFile('kubelet')}'
child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; rm -f "$PIDFILE"; exit 0' TERM INT
while true; do
  if [ -f /var/lib/kubelet/config.yaml ] && [ -f /var/lib/kubelet/kubeadm-flags.env ]; then
    KUBELET_KUBEADM_ARGS=
    . /var/lib/kubelet/kubeadm-flags.env
    echo "$(date -Is) supervisor: starting kubelet"
    "$KUBELET" --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
      --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml \\
      $KUBELET_KUBEADM_ARGS &
    child=$!
    echo "$child" > "$PIDFILE"
    wait "$child"
    echo "$(date -Is) supervisor: kubelet exited with $?; restarting in 2 s"
    child=
    sleep 2
  else
    sleep 0.5
  fi
done
`;
}

export async function startKubeletSupervisor(kubelet: string, log: string): Promise<number> {
  const running = await livePid('kubelet-supervisor', HOST.kubeletSupervisor);
  if (running) return running;
  // a kubelet orphaned by a killed supervisor would hold its ports against the new one's kubelet
  if (await livePid('kubelet', kubelet)) await stopDaemon('kubelet', kubelet, 15_000);
  await mkdir(dirname(HOST.kubeletSupervisor), { recursive: true });
  await writeFile(HOST.kubeletSupervisor, supervisorScript(kubelet), { mode: 0o755 });
  return startDaemon({ name: 'kubelet-supervisor', argv: ['/bin/bash', HOST.kubeletSupervisor], log });
}

export async function supervisorPid(): Promise<number | undefined> {
  return livePid('kubelet-supervisor', HOST.kubeletSupervisor);
}

export async function kubeletPid(kubelet: string): Promise<number | undefined> {
  return livePid('kubelet', kubelet);
}

/** Stops the loop and its kubelet (one process group). */
export async function stopKubeletSupervisor(kubelet: string): Promise<void> {
  await stopDaemon('kubelet-supervisor', HOST.kubeletSupervisor, 15_000);
  // a kubelet orphaned by a killed supervisor (its group survives a SIGKILL to the loop only)
  const orphan = await readPid('kubelet');
  if (orphan && (await livePid('kubelet', kubelet))) await stopDaemon('kubelet', kubelet, 15_000);
  await rm(pidFile('kubelet'), { force: true });
}
