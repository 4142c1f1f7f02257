import { Kubectl } from '../../../src/cluster/kubectl.js';
import type { FakeCmder } from './fake-cmder.js';

/** The fake kubectl: the real Kubectl, its commands through the fake runner. */
export class FakeKubectl extends Kubectl {
  constructor(private readonly cmd: FakeCmder) {
    super('kubectl', '/fake/admin.conf');
  }
  override run(args: string[], options = {}) {
    return this.cmd.run([this.binary, '--kubeconfig', this.kubeconfig, ...args], options);
  }
}
