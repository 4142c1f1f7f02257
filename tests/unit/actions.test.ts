import { ActionError, runActions, type Action, type ActionContext } from '../../src/exec/actions.js';
import { CommandError } from '../../src/errors.js';
import { SilentProgress } from '../../src/ui/progress.js';
import { FakeCmder } from './helpers/fake-cmder.js';
import { actionFailure as failure } from './helpers/action-failure.js';

/**
 * The action runner against a fake machine: `made` is what exists on it; each action makes one
 * thing with one command (through the Cmder seam) and is done when the thing exists.
 */
interface Ctx extends ActionContext {
  made: Set<string>;
  undone: string[];
}

function machine(cmd: FakeCmder): Ctx {
  return { cmd, progress: new SilentProgress(), made: new Set(), undone: [] };
}

function makes(name: string, opts: { undo?: boolean; noDone?: boolean } = {}): Action<Ctx> {
  return {
    name,
    title: `make ${name}`,
    done: opts.noDone ? undefined : async (c) => c.made.has(name),
    run: async (c) => {
      await c.cmd.run(['make-thing', name], { what: `make-thing ${name}` });
      c.made.add(name);
    },
    undo: opts.undo === false ? undefined : async (c) => {
      c.undone.push(name);
      c.made.delete(name);
    },
  };
}

const list = () => ['host', 'runtime', 'init', 'storage', 'entry'].map((n) => makes(n));


test('runs every action in order and reports each as ran', async () => {
  const cmd = new FakeCmder();
  const ctx = machine(cmd);
  const outcomes = await runActions(list(), ctx, { env: {} });
  expect(cmd.calls).toEqual(['make-thing host', 'make-thing runtime', 'make-thing init', 'make-thing storage', 'make-thing entry']);
  expect(outcomes.map((o) => o.state)).toEqual(['ran', 'ran', 'ran', 'ran', 'ran']);
  expect(ctx.progress.timings.map((t) => t.name)).toEqual(['make host', 'make runtime', 'make init', 'make storage', 'make entry']);
});

test('names the failed step', async () => {
  const cmd = new FakeCmder([{ match: /make-thing storage/, exitCode: 1, stderr: 'no space left' }]);
  const ctx = machine(cmd);
  const err = await failure(runActions(list(), ctx, { what: 'cluster create', env: {} }));
  expect(err.action).toBe('storage');
  expect(err.message).toBe('cluster create failed at action storage: make-thing storage exited with 1');
  expect(err.outcomes.map((o) => `${o.name}:${o.state}`)).toEqual(['host:ran', 'runtime:ran', 'init:ran', 'storage:failed', 'entry:not-reached']);
  // nothing after the failed action ran
  expect(cmd.ran(/make-thing entry/)).toBe(0);
  expect(ctx.progress.timings.find((t) => t.name === 'make storage')?.ok).toBe(false);
});

test("keeps the failed command's output", async () => {
  const stderr = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\nerror: etcd: no space left on device';
  const cmd = new FakeCmder([{ match: /make-thing init/, exitCode: 3, stdout: 'partial progress', stderr }]);
  const err = await failure(runActions(list(), machine(cmd), { env: {} }));
  expect(err.command).toBeInstanceOf(CommandError);
  expect(err.command!.argv).toEqual(['make-thing', 'init']);
  expect(err.command!.code).toBe(3);
  expect(err.command!.stdout).toBe('partial progress');
  expect(err.command!.stderr).toBe(stderr);
  // the printed details are the output's tail, ending with the real cause
  expect(err.details).toContain('error: etcd: no space left on device');
  expect(err.details).toContain('line 30');
  expect(err.cause).toBe(err.command);
});

test('re-run finishes the job: done actions are skipped by their check, the failed one and the rest run', async () => {
  const cmd = new FakeCmder([{ match: /make-thing storage/, exitCode: 1, stderr: 'apiserver not ready', times: 1 }]);
  const ctx = machine(cmd);
  await failure(runActions(list(), ctx, { env: {} }));
  expect([...ctx.made]).toEqual(['host', 'runtime', 'init']);
  cmd.calls.length = 0;
  const outcomes = await runActions(list(), ctx, { env: {} });
  expect(outcomes.map((o) => o.state)).toEqual(['done-before', 'done-before', 'done-before', 'ran', 'ran']);
  expect(cmd.calls).toEqual(['make-thing storage', 'make-thing entry']);
  expect([...ctx.made].sort()).toEqual(['entry', 'host', 'init', 'runtime', 'storage']);
});

test('a thing that disappeared is made again: the check looks at the machine, not at a record of earlier runs', async () => {
  const cmd = new FakeCmder();
  const ctx = machine(cmd);
  await runActions(list(), ctx, { env: {} });
  ctx.made.delete('runtime'); // "a reboot": the process is gone
  cmd.calls.length = 0;
  await runActions(list(), ctx, { env: {} });
  expect(cmd.calls).toEqual(['make-thing runtime']);
});

test('a done check that throws counts as not done; an action without a check always runs', async () => {
  const cmd = new FakeCmder();
  const ctx = machine(cmd);
  const flaky: Action<Ctx> = { ...makes('flaky'), done: async () => { throw new Error('kubectl: connection refused'); } };
  const always = makes('always', { noDone: true });
  await runActions([flaky, always], ctx, { env: {} });
  await runActions([flaky, always], ctx, { env: {} });
  expect(cmd.calls).toEqual(['make-thing flaky', 'make-thing always', 'make-thing flaky', 'make-thing always']);
});

test('STACKPORT_FAIL_ACTION fails the named action when reached, even if done; a re-run without it finishes', async () => {
  const cmd = new FakeCmder();
  const ctx = machine(cmd);
  const err = await failure(runActions(list(), ctx, { env: { STACKPORT_FAIL_ACTION: 'init' } }));
  expect(err.action).toBe('init');
  expect(err.message).toContain('injected failure (STACKPORT_FAIL_ACTION=init)');
  expect(cmd.ran(/make-thing (init|storage|entry)/)).toBe(0);
  // on a finished machine the injected failure still fires (a warm run proves nothing is skipped after it)
  await runActions(list(), ctx, { env: {} });
  await failure(runActions(list(), ctx, { env: { STACKPORT_FAIL_ACTION: 'entry' } }));
  // names of another runner's actions are ignored
  const outcomes = await runActions(list(), ctx, { env: { STACKPORT_FAIL_ACTION: 'apply-manifests' } });
  expect(outcomes.every((o) => o.state === 'done-before')).toBe(true);
});

test('undo order: on failure with rollback, the actions that ran now are undone last first; earlier work is left alone', async () => {
  const cmd = new FakeCmder([{ match: /make-thing entry/, exitCode: 1, stderr: 'port 8090 in use' }]);
  const ctx = machine(cmd);
  ctx.made.add('host'); // done before this run: not undone
  const actions = list();
  actions[2] = makes('init', { undo: false }); // no undo: skipped in the rollback
  const err = await failure(runActions(actions, ctx, { rollback: true, env: {} }));
  expect(err.action).toBe('entry');
  expect(ctx.undone).toEqual(['storage', 'runtime']);
  expect(ctx.progress.timings.filter((t) => t.name.startsWith('undo')).map((t) => t.name)).toEqual(['undo make storage', 'undo make runtime']);
});

test('without rollback nothing is undone (a re-run resumes instead)', async () => {
  const cmd = new FakeCmder([{ match: /make-thing entry/, exitCode: 1 }]);
  const ctx = machine(cmd);
  await failure(runActions(list(), ctx, { env: {} }));
  expect(ctx.undone).toEqual([]);
});

test('a failing undo is reported with the original failure, which stays the cause', async () => {
  const cmd = new FakeCmder([{ match: /make-thing storage/, exitCode: 1, stderr: 'boom' }]);
  const ctx = machine(cmd);
  const actions = list();
  actions[1] = { ...makes('runtime'), undo: async () => { throw new Error('cannot stop runtime'); } };
  const err = await failure(runActions(actions, ctx, { rollback: true, env: {} }));
  expect(err.action).toBe('storage');
  expect(err.undoErrors.map((u) => u.action)).toEqual(['runtime']);
  expect(err.details).toContain('boom');
  expect(err.details).toContain('undo of runtime failed too: cannot stop runtime');
  expect(ctx.undone).toEqual(['init', 'host']);
});
