/**
 * holdings() of the docker runtime, from what the engine lists as berth's (pure): every app that still has
 * a container, network, volume or image, and every release image (kind `image`; build-stage images are
 * an app's build cache, not artifacts).
 */
import type { Labels } from './engine.ts';
import { LABEL } from './names.ts';

interface Labelled {
  Labels: Labels | null;
}

export function holdingsOf(found: { containers: Labelled[]; networks: Labelled[]; volumes: Labelled[]; images: (Labelled & { Id: string })[] }): { apps: string[]; artifacts: string[] } {
  const apps = new Set<string>();
  for (const labels of [...found.containers, ...found.networks, ...found.volumes, ...found.images].map((r) => r.Labels)) {
    const app = labels?.[LABEL.app];
    if (app) apps.add(app);
  }
  const artifacts = found.images.filter((image) => image.Labels?.[LABEL.kind] === 'image').map((image) => image.Id);
  return { apps: [...apps], artifacts };
}
