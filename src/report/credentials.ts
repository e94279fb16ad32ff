import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/**
 * "Credentials the attacker could read": what in the container looks like a live secret, by name
 * and pattern only, so the responder knows what to rotate. Values are never read into the report
 * (the bundle itself still holds them: that is why it can be encrypted with --encrypt-to).
 */
export interface Credential {
  kind: 'environment variable' | 'mounted file' | 'file';
  name: string;
  /** Where the case holds it (artifact and field), for the reader to look it up. */
  where: string;
}

/** Environment variable names that usually hold a secret. */
export const SECRET_ENV =
  /(pass(wd|word)?|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key|auth|session|cookie|signing|_dsn$|database_url|conn(ection)?[_-]?str|vault)/i;
/** File paths that usually hold a secret. */
export const SECRET_PATH =
  /(^|\/)(\.env(\.[\w-]+)?|id_(rsa|dsa|ecdsa|ed25519)|[^/]*\.(pem|key|p12|pfx|jks|keystore|kdbx)|\.netrc|\.pgpass|\.git-credentials|\.npmrc|\.pypirc|credentials(\.json)?|secrets?(\.ya?ml|\.json)?|htpasswd|shadow|token)$|(^|\/)(\.aws|\.ssh|\.kube|\.docker|\.gnupg)\/|^\/(var\/)?run\/secrets\//i;

const MAX_LIST = 200;
const MAX_INDEX_BYTES = 64 << 20;

function readJson(file: string): unknown {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > 16 << 20) return undefined;
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths in an index (`{"path": …}` per line) that look like secrets; bounded in bytes and count. */
async function scanIndex(
  file: string,
  rel: string,
  out: Credential[],
  seen: Set<string>,
): Promise<void> {
  if (!fs.existsSync(file)) return;
  const stream = fs.createReadStream(file, { end: MAX_INDEX_BYTES - 1 });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (out.length >= MAX_LIST) break;
    const m = /"path":("(?:[^"\\]|\\.)*")/.exec(line);
    if (!m) continue;
    let p: string;
    try {
      p = JSON.parse(m[1]) as string;
    } catch {
      continue;
    }
    if (/"type":"(directory|5)"/.test(line) || !SECRET_PATH.test(p) || seen.has(p)) continue;
    seen.add(p);
    out.push({ kind: 'file', name: p, where: rel });
  }
  lines.close();
  stream.destroy();
}

/** Reads the case folder's inspect and file indexes for secret-looking names. */
export async function findCredentials(
  root: string,
): Promise<{ list: Credential[]; capped: boolean }> {
  const out: Credential[] = [];
  const seen = new Set<string>();
  const inspect = readJson(path.join(root, 'container', 'inspect.json'));
  if (isObj(inspect)) {
    const cfg = isObj(inspect.Config) ? inspect.Config : {};
    const env = Array.isArray(cfg.Env) ? cfg.Env : [];
    for (const item of env) {
      if (typeof item !== 'string') continue;
      const name = item.split('=', 1)[0];
      if (SECRET_ENV.test(name) && item.length > name.length + 1)
        out.push({
          kind: 'environment variable',
          name,
          where: 'container/inspect.json Config.Env',
        });
    }
    const mounts = Array.isArray(inspect.Mounts) ? inspect.Mounts : [];
    for (const m of mounts) {
      if (!isObj(m) || typeof m.Destination !== 'string') continue;
      const src = typeof m.Source === 'string' ? m.Source : '';
      if (SECRET_PATH.test(m.Destination) || SECRET_PATH.test(src)) {
        seen.add(m.Destination);
        out.push({
          kind: 'mounted file',
          name: m.Destination,
          where: `container/inspect.json Mounts (${typeof m.Type === 'string' ? m.Type : 'mount'} from the host)`,
        });
      }
    }
  }
  for (const rel of ['fs/diff-index.jsonl', 'fs/export-index.jsonl', 'fs/mounts-index.jsonl'])
    await scanIndex(path.join(root, rel), rel, out, seen);
  return { list: out.slice(0, MAX_LIST), capped: out.length >= MAX_LIST };
}
