import { CommandError, StackportError } from '../../src/errors.js';
import { waitFor } from '../../src/exec/wait.js';

test('returns the first truthy answer', async () => {
  let n = 0;
  expect(await waitFor('three asks', async () => (++n === 3 ? 'ok' : undefined), { timeoutMs: 1000, intervalMs: 1 })).toBe('ok');
  expect(n).toBe(3);
});

test("a timeout keeps the last failure's details and the error as cause", async () => {
  const failed = new CommandError({ argv: ['kubectl', 'get', 'nodes'], exitCode: 1, signal: null, stdout: '', stderr: 'The connection to the server 10.0.0.1:6443 was refused', durationMs: 5 }, { what: 'kubectl get nodes' });
  const err = (await waitFor('the node Ready', async () => { throw failed; }, { timeoutMs: 30, intervalMs: 5, hint: 'see kubelet.log' }).catch((e) => e)) as StackportError;
  expect(err).toBeInstanceOf(StackportError);
  expect(err.message).toBe('timed out after 0 s waiting for the node Ready: last error: kubectl get nodes exited with 1');
  expect(err.details).toBe('The connection to the server 10.0.0.1:6443 was refused');
  expect(err.cause).toBe(failed);
  expect(err.hint).toBe('see kubelet.log');
});

test('what was seen on the last ask is named when nothing threw', async () => {
  const err = (await waitFor('the node Ready', async (ctl) => { ctl.seen('node vm: NotReady'); return false; }, { timeoutMs: 20, intervalMs: 5 }).catch((e) => e)) as StackportError;
  expect(err.message).toBe('timed out after 0 s waiting for the node Ready: last seen: node vm: NotReady');
});

test('abort ends the wait at once with its error', async () => {
  const started = Date.now();
  const gone = new StackportError('containerd exited during start');
  await expect(waitFor('containerd socket', async (ctl) => ctl.abort(gone), { timeoutMs: 10_000 })).rejects.toBe(gone);
  expect(Date.now() - started).toBeLessThan(1000);
});

test('timeoutDetails are looked up once, when the time is up, and kept after the last failure', async () => {
  let looked = 0;
  const failed = new StackportError('pod db-0 not ready', { details: 'db-0: Pending' });
  const err = (await waitFor('the rollout', async () => { throw failed; }, {
    timeoutMs: 20,
    intervalMs: 5,
    message: 'rollout not finished after 0 s',
    timeoutDetails: async () => {
      looked++;
      return 'db-0: Pending — 0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims';
    },
  }).catch((e) => e)) as StackportError;
  expect(looked).toBe(1);
  expect(err.message).toBe('rollout not finished after 0 s: last error: pod db-0 not ready');
  expect(err.details).toBe('db-0: Pending\ndb-0: Pending — 0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims');
});

test('an answer in time never looks up timeoutDetails', async () => {
  let looked = 0;
  await waitFor('one ask', async () => true, { timeoutMs: 1000, timeoutDetails: () => String(++looked) });
  expect(looked).toBe(0);
});
