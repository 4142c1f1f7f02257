import { filterRestoreInput, ownChains, ownedChain, splitRule } from '../../src/cluster/host/network.js';

test('the host chains are written in one transaction: declared (which replaces their rules), filled, jumped to', () => {
  const input = filterRestoreInput(['STACKPORT-SERVICES', 'STACKPORT-FORWARD'], [['OUTPUT', 'STACKPORT-SERVICES']]);
  const lines = input.trim().split('\n');
  expect(lines[0]).toBe('*filter');
  expect(lines.at(-1)).toBe('COMMIT');
  expect(lines).toContain(':STACKPORT-SERVICES - [0:0]');
  expect(lines).toContain('-A STACKPORT-SERVICES -d 10.96.0.0/12 -p tcp -j REJECT --reject-with tcp-reset');
  expect(lines).toContain('-I OUTPUT 1 -j STACKPORT-SERVICES');
  // every declaration comes before the first rule, so a rule may jump to a chain declared in the same input
  const lastDecl = Math.max(...lines.map((l, i) => (l.startsWith(':') ? i : -1)));
  const firstRule = lines.findIndex((l) => l.startsWith('-A'));
  expect(lastDecl).toBeLessThan(firstRule);
  // the forward chain refuses unprogrammed Service traffic before it accepts pod traffic
  const fwd = lines.filter((l) => l.startsWith('-A STACKPORT-FORWARD'));
  expect(fwd[0]).toBe('-A STACKPORT-FORWARD -j STACKPORT-SERVICES');
});

test('a chain already right is left out of the input: nothing is rewritten', () => {
  expect(filterRestoreInput([], [])).toBe('*filter\nCOMMIT\n');
  expect(filterRestoreInput(['STACKPORT-FORWARD'], [])).not.toContain('STACKPORT-SERVICES -d');
});

test('our chains are ours to remove, Docker\'s are not; rules split like iptables -S prints them', () => {
  for (const name of ownChains().keys()) expect(ownedChain(name)).toBe(true);
  expect(ownedChain('DOCKER-USER')).toBe(false);
  expect(splitRule('-m comment --comment "a b" -j X')).toEqual(['-m', 'comment', '--comment', 'a b', '-j', 'X']);
});
