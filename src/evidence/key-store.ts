import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { configDir } from '../util/config-dir.js';
import { safeText } from '../util/sanitize.js';
import { keyFingerprint, loadSigningKey, publicPem } from './sign.js';

/**
 * The responder's own signing keys, kept under `<config>/keys/<name>.pem` (folder 0700, file 0600).
 * A key kept across cases is what makes a signature mean "signed by this responder": a key made per
 * case and thrown away lets anyone who edits a bundle sign it again.
 */

export const DEFAULT_KEY_NAME = 'responder';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface StoredKey {
  name: string;
  file: string;
  fingerprint: string;
}

export function keysDir(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'keys');
}

function checkName(name: string): string {
  if (!NAME.test(name))
    throw new UserError(`Key name "${safeText(name)}" is not allowed`, {
      hint: 'Use letters, digits, dot, dash and underscore (up to 64).',
    });
  return name;
}

export function keyFile(env: NodeJS.ProcessEnv, name = DEFAULT_KEY_NAME): string {
  return path.join(keysDir(env), `${checkName(name)}.pem`);
}

/**
 * Loads a kept key, refusing one others can read (as ssh does): a signing key readable by other
 * users proves nothing about who signed.
 */
export function loadStoredKey(file: string): KeyObject {
  const st = fs.statSync(file);
  if (st.mode & 0o077)
    throw new UserError(
      `${safeText(file)} can be read by other users (mode ${(st.mode & 0o777).toString(8)})`,
      { hint: `Run \`chmod 600 ${safeText(file)}\`, or make a new key with \`cirt keys init\`.` },
    );
  return loadSigningKey(file);
}

/** Makes a new Ed25519 key `name`; never replaces one. */
export function initKey(env: NodeJS.ProcessEnv, name = DEFAULT_KEY_NAME): StoredKey {
  const file = keyFile(env, name);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  try {
    // wx: an existing key (whose public half may be published already) is never overwritten.
    fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`A key "${name}" exists already: ${file}`, {
        hint: 'Keep it (`cirt keys export` prints its public half), or pass --name for another one.',
      });
    throw err;
  }
  return { name, file, fingerprint: keyFingerprint(privateKey) };
}

/** The kept keys, by name. A file that is not a usable key is listed with its problem. */
export function listKeys(env: NodeJS.ProcessEnv): (StoredKey & { problem?: string })[] {
  const dir = keysDir(env);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.pem'));
  } catch {
    return [];
  }
  return names.sort().map((n) => {
    const file = path.join(dir, n);
    const name = n.slice(0, -4);
    try {
      return { name, file, fingerprint: keyFingerprint(loadStoredKey(file)) };
    } catch (err) {
      return { name, file, fingerprint: '', problem: (err as Error).message };
    }
  });
}

/** `cirt keys export`: the public half as SPKI PEM, after a `# cirt key NAME sha256 FP` label line. */
export function exportKey(env: NodeJS.ProcessEnv, name = DEFAULT_KEY_NAME): string {
  const file = keyFile(env, name);
  if (!fs.existsSync(file))
    throw new UserError(`No key "${name}" in ${keysDir(env)}`, {
      hint: 'Make one with `cirt keys init`.',
    });
  const key = loadStoredKey(file);
  return `# cirt key ${name} sha256 ${keyFingerprint(key)}\n${publicPem(key)}`;
}

/** The kept default key's file when there is one: sealing uses it unless --sign-key says otherwise. */
export function defaultKeyFile(env: NodeJS.ProcessEnv): string | undefined {
  const file = keyFile(env);
  return fs.existsSync(file) ? file : undefined;
}
