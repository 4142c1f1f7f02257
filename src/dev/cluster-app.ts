/**
 * The app of a Compose file on the cluster in a namespace of its own, without data (what the
 * dev-loop e2e test and `make bench-dev` start from; `make migrate` does the same for the demo,
 * with its data, in the default namespace): generate -> stage (secrets, images) -> deliver the
 * images -> server-side apply with the image-ID stamp -> wait for the rollout.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterProvider } from '../cluster/providers/provider.js';
import type { Kubectl } from '../cluster/kubectl.js';
import { imageId } from '../engine/images.js';
import { generate } from '../k8s/generate.js';
import { stageManifests } from '../k8s/stage.js';
import { DEFAULT_OPTIONS, type TransformOptions } from '../k8s/transform.js';
import { schemaValidator } from '../k8s/validate.js';
import { imagesIn } from '../migrate/kube.js';
import { stampImageIds } from '../migrate/image-stamp.js';
import { waitRollout } from '../migrate/rollout.js';
import { loadedProject, type Stack } from '../stack/stack.js';

export interface DeployOptions {
  stack: Stack;
  provider: ClusterProvider;
  kubectl: Kubectl;
  namespace: string;
  nodePort: number;
  workDir: string;
  timeoutMs?: number;
  /** false: skip the schema validation (kubernetes-models is ESM-only: jest cannot load it). */
  validate?: boolean;
}

export async function deployToNamespace(o: DeployOptions): Promise<void> {
  const load = { files: o.stack.composeFiles, envFile: o.stack.envFile, projectName: o.stack.project, env: o.stack.env, displayBase: o.workDir };
  const transform: TransformOptions = { ...DEFAULT_OPTIONS, namespace: o.namespace, nodePort: o.nodePort, displayBase: o.workDir };
  const staged = path.join(o.workDir, 'staged');
  rmSync(o.workDir, { recursive: true, force: true });
  mkdirSync(o.workDir, { recursive: true });
  stageManifests({ dir: staged, load, loaded: loadedProject(o.stack), transform, target: 'kubeadm', validate: o.validate === false ? undefined : await schemaValidator() });
  const rendered = (await o.kubectl.run(['kustomize', staged], { what: 'kubectl kustomize' })).stdout;
  const images = imagesIn(rendered);
  await o.provider.loadImages(images);
  const ids: Record<string, string> = {};
  for (const i of images) {
    const id = await imageId(i);
    if (id) ids[i] = id;
  }
  const file = path.join(o.workDir, 'applied.yaml');
  writeFileSync(file, stampImageIds(rendered, ids));
  await o.kubectl.run(['apply', '--server-side', '--field-manager=stackport', '--force-conflicts', '-f', file], { what: 'kubectl apply --server-side' });
  await waitRollout(o.kubectl, o.namespace, `app.kubernetes.io/instance=${o.stack.project}`, o.timeoutMs ?? 600_000, () => undefined);
}
