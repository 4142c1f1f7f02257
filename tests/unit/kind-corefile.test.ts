import { BARE_NAMES_MARK, withBareNamesKept } from '../../src/cluster/build/coredns.js';

const KUBEADM_COREFILE = `.:53 {
    errors
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    reload
}
`;

test('single-label names are answered NXDOMAIN before anything is forwarded', () => {
  const out = withBareNamesKept(KUBEADM_COREFILE);
  const lines = out.split('\n');
  const template = lines.indexOf('    template ANY ANY . {');
  expect(lines[template - 1]).toBe(`    ${BARE_NAMES_MARK}`);
  expect(lines.slice(template + 1, template + 5)).toEqual(['       match "^[^.]+[.]$"', '       rcode NXDOMAIN', '       fallthrough', '    }']);
  expect(template).toBeLessThan(lines.indexOf('    forward . /etc/resolv.conf {'));
  // everything else is kept as it was
  expect(out.replace(/^ *# stackport.*\n(?: *.*\n){5}/m, '')).toBe(KUBEADM_COREFILE);
  expect(new RegExp('^[^.]+[.]$').test('api.')).toBe(true);
  expect(new RegExp('^[^.]+[.]$').test('api.default.svc.cluster.local.')).toBe(false);
});

test('applied once: a second pass changes nothing', () => {
  const once = withBareNamesKept(KUBEADM_COREFILE);
  expect(withBareNamesKept(once)).toBe(once);
});

test('a Corefile without a forward line is refused, not guessed at', () => {
  expect(() => withBareNamesKept('.:53 {\n    errors\n}\n')).toThrow(/no `forward \.` line/);
});
