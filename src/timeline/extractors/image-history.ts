import { latestOf, readJsonList } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { fromUnixSeconds, parseAnyTime } from '../time.js';

interface Layer {
  Id?: unknown;
  Created?: unknown;
  CreatedBy?: unknown;
  Comment?: unknown;
  Size?: unknown;
  Tags?: unknown;
}

/** Image layer creation times, from container/image-history.json (`GET /images/{id}/history`). */
export const imageHistoryExtractor: Extractor = {
  name: 'image',
  description: 'image layer creation (image history)',
  artifacts: ['container/image-history.json'],
  async extract(x) {
    const rel = latestOf(x.files, 'container/image-history.json');
    if (!rel) {
      x.diag.note('image: no container/image-history.json; skipped');
      return [];
    }
    const doc = await readJsonList(x.src, rel, x.diag, 'layers');
    if (!doc) return [];
    const out: TimelineEvent[] = [];
    (doc as Layer[]).forEach((layer, entry) => {
      const at =
        typeof layer?.Created === 'number'
          ? fromUnixSeconds(layer.Created)
          : parseAnyTime(layer?.Created);
      if (!at) {
        x.diag.warn(`${rel}: layer ${entry} has no creation time; skipped`, rel);
        return;
      }
      const by =
        typeof layer.CreatedBy === 'string' && layer.CreatedBy
          ? layer.CreatedBy
          : typeof layer.Comment === 'string' && layer.Comment
            ? layer.Comment
            : '(no command)';
      out.push(
        makeEvent({
          at,
          desc: 'Layer Created',
          message: `image layer created: ${by}`,
          source: 'image',
          kind: 'image:layer',
          actor: 'image',
          ref: { artifact: rel, entry, field: 'Created' },
          attrs: {
            layer: layer.Id,
            createdBy: layer.CreatedBy,
            comment: layer.Comment,
            size: layer.Size,
            tags: layer.Tags,
          },
        }),
      );
    });
    return [byTime(out)];
  },
};
