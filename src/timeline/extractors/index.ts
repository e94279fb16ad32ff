import type { Extractor } from '../extractor.js';
import { custodyExtractor } from './custody.js';
import { engineExtractor } from './engine.js';
import { execExtractor } from './exec.js';
import { fsExtractor } from './fs.js';
import { imageHistoryExtractor } from './image-history.js';
import { journalExtractor } from './journal.js';
import { lifecycleExtractor } from './lifecycle.js';
import { logsExtractor } from './logs.js';
import { processesExtractor } from './processes.js';
import { processFilesExtractor } from './process-files.js';
import { socketsExtractor } from './sockets.js';
import { trafficExtractor } from './traffic.js';

/** An explicit list, like plaso's parser registry: a duplicate name is a bug and throws. */
export class ExtractorRegistry {
  private readonly byName = new Map<string, Extractor>();

  constructor(list: Extractor[]) {
    for (const x of list) {
      if (this.byName.has(x.name))
        throw new Error(`timeline extractor "${x.name}" is registered twice`);
      this.byName.set(x.name, x);
    }
  }

  /** In registration order, which is also the tie-break order for events at the same microsecond. */
  list(): Extractor[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Every timeline source. Adding one = one extractor file + this line + a test. */
export const extractors = new ExtractorRegistry([
  imageHistoryExtractor,
  lifecycleExtractor,
  engineExtractor,
  execExtractor,
  processesExtractor,
  processFilesExtractor,
  fsExtractor,
  socketsExtractor,
  journalExtractor,
  trafficExtractor,
  custodyExtractor,
  logsExtractor,
]);
