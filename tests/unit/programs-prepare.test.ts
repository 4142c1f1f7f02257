import { StackportError } from '../../src/errors.js';
import { PREPARE_STEPS, formatPrepared, stepsFor, withinBudget } from '../../src/prepare/prepare.js';

describe('prepare: the cold builds as a phase of their own', () => {
  it('unit and golden need nothing built; integration the engine, Compose and images; e2e everything', () => {
    expect(stepsFor(['unit', 'golden'])).toEqual([]);
    expect(stepsFor(['integration']).map((s) => s.name)).toEqual(['Docker engine', 'Compose', 'base and drop-in images']);
    expect(stepsFor(['e2e'])).toEqual(PREPARE_STEPS);
    expect(stepsFor([])).toEqual(PREPARE_STEPS);
  });

  it('every step has a budget of its own, and the cluster build the largest', () => {
    for (const s of PREPARE_STEPS) expect(s.budgetMin).toBeGreaterThan(0);
    const cluster = PREPARE_STEPS.find((s) => s.name.startsWith('cluster binaries'))!;
    expect(Math.max(...PREPARE_STEPS.map((s) => s.budgetMin))).toBe(cluster.budgetMin);
  });

  it('a step over its budget fails with its name and budget', async () => {
    const slow = new Promise((r) => setTimeout(r, 2000).unref());
    const e = await withinBudget('kind node image', 0.001, slow).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StackportError);
    expect((e as StackportError).message).toBe('prepare step "kind node image" went over its budget of 0.001 min');
    await expect(withinBudget('fast', 1, Promise.resolve(42))).resolves.toBe(42);
  });

  it('the breakdown says which steps were cached', () => {
    const text = formatPrepared([
      { name: 'Compose', ms: 200_000, cached: false },
      { name: 'Docker engine', ms: 120, cached: true },
      { name: 'kind CLI and node image', ms: 0, cached: true, skipped: 'not root' },
    ]);
    expect(text).toMatch(/Compose\s+3 min 20 s\n/);
    expect(text).toMatch(/Docker engine\s+120 ms {2}\(cached\)/);
    expect(text).toContain('skipped: not root');
  });
});
