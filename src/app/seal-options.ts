import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UserError } from '../errors.js';
import type { CaseStore } from '../evidence/case-store.js';
import { defaultKeyFile, loadStoredKey } from '../evidence/key-store.js';
import { loadSigningKey } from '../evidence/sign.js';
import { configDir } from '../util/config-dir.js';
import { safeText } from '../util/sanitize.js';
import type { AppEnv } from './env.js';

/** How a case is sealed, as given on the command line (each falls back to the config file). */
export interface SealChoices {
  /** --sign-key: a PEM Ed25519 private key; else the kept key (`cirt keys init`); else one made for the case. */
  signKey?: string;
  /** --tsa: an RFC 3161 time-stamping authority's URL. */
  tsa?: string;
  /** --encrypt-to: X.509 certificates (PEM) the bundle is encrypted to. */
  encryptTo?: string[];
}

export interface SealPlan {
  signKeyPath?: string;
  signKeyKept: boolean;
  tsaUrl?: string;
  encryptTo: string[];
}

/** `<config>/config.yaml`: `tsa: URL`, `encryptTo: [cert.pem, …]` (paths relative to the file). */
function readConfig(env: NodeJS.ProcessEnv): { file: string; tsa?: string; encryptTo?: string[] } {
  const file = path.join(configDir(env), 'config.yaml');
  if (!fs.existsSync(file)) return { file };
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file} is not valid YAML: ${safeText((err as Error).message)}`, {
      hint: 'Fix or remove it; it may hold `tsa: URL` and `encryptTo: [cert.pem]`.',
    });
  }
  const d = (doc ?? {}) as { tsa?: unknown; encryptTo?: unknown };
  const strs = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (
    (d.tsa !== undefined && typeof d.tsa !== 'string') ||
    (d.encryptTo !== undefined && !strs(d.encryptTo))
  )
    throw new UserError(
      `${file}: "tsa" must be a URL and "encryptTo" a list of certificate files`,
      {
        hint: 'For example `tsa: http://tsa.example/` and `encryptTo: [auditor.crt]`.',
      },
    );
  return {
    file,
    tsa: d.tsa as string | undefined,
    encryptTo: (d.encryptTo as string[] | undefined)?.map((f) =>
      path.resolve(path.dirname(file), f),
    ),
  };
}

export function checkTsaUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    u = new URL('invalid:');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UserError(`--tsa "${safeText(url)}" is not an http(s) URL`, {
      hint: 'Give the time-stamping authority’s RFC 3161 URL, e.g. http://timestamp.example/tsa.',
    });
  return u.toString();
}

/** Reads a recipient certificate now, so a bad one fails before the engine is touched. */
export function checkRecipient(file: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(fs.readFileSync(file));
  } catch (err) {
    throw new UserError(
      `--encrypt-to ${safeText(file)} is not a readable X.509 certificate: ${safeText((err as Error).message)}`,
      {
        hint: 'Give the recipient’s certificate in PEM (openssl x509 -in cert.pem -noout -subject).',
      },
    );
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa')
    throw new UserError(
      `--encrypt-to ${safeText(file)} holds a ${cert.publicKey.asymmetricKeyType} key: openssl cms encrypts to RSA certificates`,
      { hint: 'Ask the recipient for an RSA certificate.' },
    );
  return file;
}

/** Resolves and checks how the case will be sealed, before anything is touched. */
export function planSeal(c: SealChoices, env: AppEnv): SealPlan {
  const cfg = readConfig(env.env);
  let signKeyPath = c.signKey ? path.resolve(env.cwd, c.signKey) : undefined;
  let signKeyKept = false;
  if (signKeyPath) loadSigningKey(signKeyPath);
  else {
    signKeyPath = defaultKeyFile(env.env);
    if (signKeyPath) {
      loadStoredKey(signKeyPath);
      signKeyKept = true;
    }
  }
  const tsa = c.tsa ?? cfg.tsa;
  const encryptTo = (
    c.encryptTo?.length ? c.encryptTo.map((f) => path.resolve(env.cwd, f)) : (cfg.encryptTo ?? [])
  ).map(checkRecipient);
  return { signKeyPath, signKeyKept, tsaUrl: tsa ? checkTsaUrl(tsa) : undefined, encryptTo };
}

export function applySealPlan(store: CaseStore, p: SealPlan): void {
  store.signKeyPath = p.signKeyPath;
  store.signKeyKept = p.signKeyKept;
  store.tsaUrl = p.tsaUrl;
  store.encryptTo = p.encryptTo;
}
