import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { isKind, runtimeMessage } from '../runtime/errors.js';

export const collectInspect = defineAction({
  name: 'collect:inspect',
  description:
    "Record the container's full inspect, its image's inspect and the image history (layers, their digests and times), and the image digest in case.json. Read-only; works on a paused or stopped container.",
  example: '- uses: collect:inspect',
  params: z.strictObject({}),
  mutates: false,
  plan: (_p, t) =>
    `record the inspect of ${t.name}, its image and the image history into container/`,
  needs: ['inspect'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx) {
    const facts = await ctx.facts();
    await ctx.writeJson('container/inspect.json', facts.raw, facts.source);
    const imageId = facts.imageId;
    let digest: string | undefined;
    let layers = 0;
    try {
      const img = await ctx.runtime.image(imageId);
      await ctx.writeJson('container/image-inspect.json', img.raw, img.source);
      digest = img.digest;
      layers = img.layers;
      const history = await ctx.runtime.imageHistory(imageId);
      await ctx.writeJson('container/image-history.json', history.raw, history.source);
    } catch (err) {
      if (!isKind(err, 'not-found')) throw err;
      const reason = `image ${imageId} of ${ctx.target.name} is no longer on the engine (${runtimeMessage(err)}): image inspect and history not collected`;
      ctx.warn(reason);
      await ctx.case.noteGap(reason);
    }
    if (digest) await ctx.case.recordImageDigest(digest);
    return {
      status: 'ok',
      summary: `inspect of ${ctx.target.name} (${facts.state.status}), image ${facts.image} ${digest ? `digest ${digest}` : '(image gone)'}, ${layers} layers`,
      details: {
        state: facts.state.status,
        image: facts.image,
        imageId,
        imageDigest: digest ?? null,
        layers,
      },
    };
  },
});
