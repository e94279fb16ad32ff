import { z } from 'zod';
import { defineAction } from '../runner/action.js';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPO = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

/** A container name as an image repository path component (lowercase, separators only between letters/digits). */
export function repoComponent(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]*([._])[._-]*/g, '$1')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return s || 'container';
}

/** A case id as an image tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`). */
export function tagOf(caseId: string): string {
  return (
    caseId
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .replace(/^[.-]+/, '')
      .slice(0, 120) || 'case'
  );
}

export const collectImageCommit = defineAction({
  name: 'collect:image-commit',
  description:
    "Commit the container's filesystem to a local evidence image (cirt-evidence/<name>:<case-id>), pausing it for the commit so the image is consistent. The container is not changed; the image stays on the engine for later analysis.",
  example: ['- uses: collect:image-commit', '  with:', '    repo: cirt-evidence/web'].join('\n'),
  params: z.strictObject({
    repo: z
      .string()
      .max(200)
      .regex(REPO, 'an image repository name: lowercase letters, digits, separators . _ - and /')
      .optional()
      .describe(
        'repository of the evidence image; default cirt-evidence/<container-name>; the tag is the case id',
      ),
  }),
  mutates: false,
  plan: (p, t) =>
    `commit the filesystem of ${t.name} to the local image ${p.repo ?? `cirt-evidence/${repoComponent(t.name)}`}:<case-id> (creates an image on the engine; the container is paused for the commit if it is running, and left as it was)`,
  needs: ['inspect', 'commit'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx, p) {
    const facts = await ctx.facts();
    const repo = p.repo ?? `cirt-evidence/${repoComponent(ctx.target.name)}`;
    // Never move an existing evidence tag (a re-run of the step): pick the next free one.
    const base = tagOf(ctx.case.id);
    let tag = base;
    for (let n = 2; await ctx.runtime.imageExists(`${repo}:${tag}`); n++) tag = `${base}-${n}`;
    ctx.progress({ message: `committing to ${repo}:${tag}` });
    const res = await ctx.runtime.commit(ctx.target, {
      repo,
      tag,
      comment: `cirt evidence of container ${ctx.target.id} (${ctx.target.name}), case ${ctx.case.id}, step ${ctx.stepId}`,
    });
    const at = new Date().toISOString();
    const img = await ctx.runtime.image(res.imageId);
    await ctx.writeJson(
      'container/commit.json',
      {
        imageId: res.imageId,
        tag: `${repo}:${tag}`,
        at,
        container: ctx.target.id,
        containerState: facts.state.status,
        size: img.size,
        parent: img.parent || facts.imageId,
      },
      res.source,
    );
    return {
      status: 'ok',
      summary: `committed to ${repo}:${tag} (${res.imageId.slice(0, 19)}, ${img.size} bytes)`,
      details: { imageId: res.imageId, tag: `${repo}:${tag}`, size: img.size },
    };
  },
});
