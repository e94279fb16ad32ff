import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { engineMessage, engineStatus } from '../docker/errors.js';

export const collectInspect = defineAction({
  name: 'collect:inspect',
  description:
    "Record the container's full inspect, its image's inspect and the image history (layers, their digests and times), and the image digest in case.json. Read-only; works on a paused or stopped container.",
  example: '- uses: collect:inspect',
  params: z.strictObject({}),
  mutates: false,
  plan: (_p, t) => `record the inspect of ${t.name}, its image and the image history into container/`,
  async check(ctx) {
    await ctx.inspect();
  },
  async run(ctx) {
    const info = await ctx.inspect();
    await ctx.writeJson('container/inspect.json', info, `GET /containers/${ctx.target.id}/json`);
    const imageId = info.Image;
    const image = ctx.docker.getImage(imageId);
    let digest: string | undefined;
    let layers = 0;
    try {
      const img = await image.inspect();
      await ctx.writeJson('container/image-inspect.json', img, `GET /images/${imageId}/json`);
      // A registry digest names the image beyond this engine; a locally built image only has its id.
      digest = img.RepoDigests?.[0] ?? img.Id;
      layers = img.RootFS?.Layers?.length ?? 0;
      const history = await image.history();
      await ctx.writeJson('container/image-history.json', history, `GET /images/${imageId}/history`);
    } catch (err) {
      if (engineStatus(err) !== 404) throw err;
      const reason = `image ${imageId} of ${ctx.target.name} is no longer on the engine (${engineMessage(err)}): image inspect and history not collected`;
      ctx.warn(reason);
      await ctx.case.noteIncomplete(ctx.stepId, reason);
    }
    if (digest) await ctx.case.updateInfo({ target: { ...ctx.case.caseInfo.target, imageDigest: digest } });
    return {
      status: 'ok',
      summary: `inspect of ${ctx.target.name} (${info.State.Status}), image ${info.Config.Image} ${digest ? `digest ${digest}` : '(image gone)'}, ${layers} layers`,
      details: { state: info.State.Status, image: info.Config.Image, imageId, imageDigest: digest ?? null, layers },
    };
  },
});
