import { parseBytes } from './bytes-param.js';

/**
 * Parses a byte size the way the docker CLI does (`256m`, `1g`, `512k`, `1048576`; binary units,
 * an optional trailing `b`, `KiB`-style spellings too). Returns undefined for anything else, and
 * for zero (a limit of nothing is no limit the engine takes).
 */
export function parseByteSize(text: string): number | undefined {
  const n = parseBytes(text);
  return n !== undefined && n > 0 ? n : undefined;
}
