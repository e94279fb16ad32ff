import { EXIT } from '../../errors.js';
import { exportKey, initKey, keysDir, listKeys } from '../../evidence/key-store.js';
import { safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/**
 * `cirt keys init|list|export [--name N]`: the responder's signing keys under
 * `$XDG_CONFIG_HOME/cirt/keys` (else ~/.config/cirt/keys). Sealing uses the key "responder" when it
 * exists; `export` prints its public half for the auditor's --trusted-keys file.
 */
export async function keysCommand(
  verb: 'init' | 'list' | 'export',
  o: { name?: string; json?: boolean },
  io: CommandIO,
): Promise<number> {
  const w = (s: string): void => println(io.out, s);
  if (verb === 'init') {
    const k = initKey(io.env, o.name);
    if (o.json) w(JSON.stringify(k));
    else
      w(
        [
          `made Ed25519 key "${k.name}": ${safeText(k.file)} (mode 600)`,
          `  fingerprint sha256 ${k.fingerprint}`,
          '  cirt signs every case with it from now on (--sign-key overrides); give auditors its public half:',
          `  cirt keys export${o.name ? ` --name ${k.name}` : ''} > ${k.name}.pub.pem`,
        ].join('\n'),
      );
    return EXIT.ok;
  }
  if (verb === 'export') {
    io.out.write(exportKey(io.env, o.name));
    return EXIT.ok;
  }
  const keys = listKeys(io.env);
  if (o.json) w(JSON.stringify({ dir: keysDir(io.env), keys }));
  else if (!keys.length)
    w(`no keys in ${safeText(keysDir(io.env))}; make one with \`cirt keys init\``);
  else
    for (const k of keys)
      w(
        k.problem
          ? `✖ ${k.name}  ${safeText(k.file)}: ${safeText(k.problem)}`
          : `${k.name}  sha256 ${k.fingerprint}  ${safeText(k.file)}`,
      );
  return keys.some((k) => k.problem) ? EXIT.failed : EXIT.ok;
}
