import { render, useApp, useInput } from 'ink';
import { useEffect, useState } from 'react';
import { EXIT } from '../errors.js';
import { PendingScreen, type PendingRow } from './components/PendingScreen.js';

export interface PendingServices {
  load(): Promise<PendingRow[]>;
  decide(id: string, decision: 'approve' | 'reject'): Promise<string>;
}

/** The root of the Pending screen: polls the service, takes keys, and is the one place that exits. */
export function PendingApp(p: { services: PendingServices; width: number; pollMs?: number }) {
  const { exit } = useApp();
  const [items, setItems] = useState<PendingRow[]>([]);
  const [selected, setSelected] = useState(0);
  const [message, setMessage] = useState('');
  const [now, setNow] = useState(Date.now());
  const refresh = (): void => {
    p.services.load().then(
      (rows) => {
        setItems(rows);
        setNow(Date.now());
        setSelected((s) => Math.min(s, Math.max(0, rows.length - 1)));
      },
      (err: Error) => setMessage(`cannot list: ${err.message}`),
    );
  };
  useEffect(() => {
    refresh();
    const t = setInterval(refresh, p.pollMs ?? 1000);
    return () => clearInterval(t);
    // The services are fixed for the app's life.
  }, []);
  useInput((input, key) => {
    if (input === 'q' || key.escape) return exit({ code: EXIT.ok });
    if (key.upArrow) setSelected((s) => Math.max(0, s - 1));
    if (key.downArrow) setSelected((s) => Math.min(items.length - 1, s + 1));
    const it = items[selected];
    if (it && (input === 'a' || input === 'r')) {
      const decision = input === 'a' ? 'approve' : 'reject';
      p.services.decide(it.id, decision).then(
        (m) => {
          setMessage(m);
          refresh();
        },
        (err: Error) => setMessage(`${decision} ${it.id} failed: ${err.message}`),
      );
    }
  });
  return (
    <PendingScreen items={items} selected={selected} message={message} width={p.width} now={now} />
  );
}

/** `cirt pending --tui`: runs the Pending screen until `q`. */
export async function launchPending(o: {
  services: PendingServices;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}): Promise<number> {
  const instance = render(<PendingApp services={o.services} width={o.stdout.columns || 80} />, {
    stdout: o.stdout,
    stdin: o.stdin,
    exitOnCtrlC: true,
  });
  const r = (await instance.waitUntilExit()) as { code?: number } | undefined;
  return typeof r?.code === 'number' ? r.code : EXIT.ok;
}
