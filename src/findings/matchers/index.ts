import type { Matcher } from '../matcher.js';
import { trafficMatcher, yaraMatcher } from './deep.js';
import { envMatcher } from './env.js';
import { execMatcher } from './exec.js';
import { fsAddedMatcher } from './fs-added.js';
import { fsChangeMatcher } from './fs-change.js';
import { pathBinaryMatcher } from './path-binary.js';
import { processMatcher } from './process.js';
import { processFileMatcher } from './process-file.js';
import { setuidMatcher } from './setuid.js';
import { shellSocketMatcher } from './shell.js';
import { listeningMatcher, socketMatcher } from './sockets.js';

/** Every matcher kind rules may use. Explicit; a duplicate kind throws. */
export const matchers: ReadonlyMap<string, Matcher> = (() => {
  const m = new Map<string, Matcher>();
  for (const x of [
    fsChangeMatcher,
    fsAddedMatcher,
    setuidMatcher,
    pathBinaryMatcher,
    processMatcher,
    processFileMatcher,
    execMatcher,
    socketMatcher,
    listeningMatcher,
    envMatcher,
    shellSocketMatcher,
    yaraMatcher,
    trafficMatcher,
  ] as Matcher[]) {
    if (m.has(x.kind)) throw new Error(`finding matcher "${x.kind}" is registered twice`);
    m.set(x.kind, x);
  }
  return m;
})();
