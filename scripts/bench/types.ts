/** One line of the benchmark table. */
export interface BenchRow {
  metric: string;
  value: string;
  /** What "good" means here, e.g. "≤ 1.5" or "< 1000 ms"; empty when informational. */
  target?: string;
  /** Whether the target was met; undefined when there is no target. */
  ok?: boolean;
}

/** A benchmark module: scripts/bench.ts runs each in order and prints their rows. */
export interface BenchModule {
  name: string;
  run(log: (line: string) => void): Promise<BenchRow[]>;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
