import type { FalcoAlert } from '../app/alert.js';

/** `${proc.pid}`: a field of the alert. Names as Falco writes them: letters, digits, `.`, `_`, `[`, `]`. */
const FIELD = /\$\{([A-Za-z0-9_.[\]-]{1,100})\}/g;
const WHOLE = /^\$\{([A-Za-z0-9_.[\]-]{1,100})\}$/;
/** Top-level alert members a param may take besides `output_fields`. */
const TOP = ['rule', 'priority', 'source', 'hostname', 'time', 'uuid'];

/** Every `${…}` field a params tree refers to (for checks at load time and for docs). */
export function fieldsIn(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(FIELD)) out.add(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out];
}

/** Text with a `${` that is not a well-formed field reference (a typo the operator should hear about). */
export function malformedReference(value: unknown): string | undefined {
  let bad: string | undefined;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.replace(FIELD, '').includes('${')) bad ??= v;
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return bad;
}

function lookup(alert: FalcoAlert, name: string): unknown {
  const fields = alert.output_fields as Record<string, unknown>;
  if (Object.hasOwn(fields, name)) return fields[name];
  if (TOP.includes(name)) return (alert as Record<string, unknown>)[name];
  return undefined;
}

/**
 * Fills `${field}` references with the alert's values. Pure data substitution: a value is never
 * evaluated, parsed as YAML, or handed to a shell. A string that is exactly one reference takes the
 * field's own JSON type (`${proc.pid}` stays a number); a reference inside longer text is replaced by
 * the value's text. The action's schema then checks the result as if it were written in the playbook.
 * Throws naming the first field the alert lacks (null counts as missing).
 */
export function fillParams<T>(value: T, alert: FalcoAlert): T {
  const need = (name: string): unknown => {
    const v = lookup(alert, name);
    if (v === undefined || v === null) throw new MissingFieldError(name);
    if (typeof v === 'object') throw new MissingFieldError(name, 'is not a single value');
    return v;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const whole = WHOLE.exec(v);
      if (whole) return need(whole[1]);
      return v.replace(FIELD, (_m, name: string) => String(need(name)));
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export class MissingFieldError extends Error {
  constructor(
    readonly field: string,
    why = 'is not in the alert',
  ) {
    super(`alert field ${field} ${why}`);
  }
}
