import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseAlert, type LoadedAlert } from '../app/alert.js';
import { CirtError } from '../errors.js';

/** An alert the service took: its id, the checked alert, where its exact bytes are kept. */
export interface AcceptedAlert {
  id: string;
  receivedAt: string;
  /** performance.now() at arrival: for the latency the bench measures. */
  t0: number;
  loaded: LoadedAlert;
  sha256: string;
  file: string;
  from: string;
}

export type Intake =
  | { kind: 'accepted'; alert: AcceptedAlert }
  /** A Falco alert about the host itself (container.id "host"): nothing to respond to, not kept. */
  | { kind: 'ignored'; why: string }
  | { kind: 'bad'; message: string };

/**
 * Every accepted alert is kept byte-exact in `<state dir>/alerts/<id>.json` and listed with its
 * sha256 in `<state dir>/alerts.jsonl`, before the sender gets its 202: the alert that a run was
 * started for (or was not) can always be shown. Bad input is refused before anything is written.
 */
export class AlertStore {
  private readonly dir: string;
  private readonly index: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'alerts');
    this.index = path.join(stateDir, 'alerts.jsonl');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  take(raw: Buffer, from: string, t0: number): Intake {
    let loaded: LoadedAlert;
    try {
      loaded = parseAlert(raw, from);
    } catch (err) {
      if (!(err instanceof CirtError)) throw err;
      if (/is about the host/.test(err.message))
        return { kind: 'ignored', why: 'a host event (container.id "host")' };
      return { kind: 'bad', message: err.message };
    }
    const receivedAt = new Date();
    const id = `${receivedAt
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.(\d{3})Z$/, '$1Z')}-${randomBytes(3).toString('hex')}`;
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const file = path.join(this.dir, `${id}.json`);
    fs.writeFileSync(file, raw, { flag: 'wx', mode: 0o600 });
    fs.appendFileSync(
      this.index,
      `${JSON.stringify({ id, receivedAt: receivedAt.toISOString(), sha256, bytes: raw.length, from, rule: loaded.alert.rule, container: loaded.target })}\n`,
    );
    return {
      kind: 'accepted',
      alert: { id, receivedAt: receivedAt.toISOString(), t0, loaded, sha256, file, from },
    };
  }
}
