import type { AnyAction } from './action.js';

/** An explicit registry: adding an action means adding it to the list in index.ts. */
export class ActionRegistry {
  private readonly byName = new Map<string, AnyAction>();

  constructor(actions: AnyAction[]) {
    for (const a of actions) {
      if (!/^[a-z]+:[a-z][a-z0-9-]*$/.test(a.name))
        throw new Error(`action name "${a.name}" is not category:verb`);
      if (this.byName.has(a.name)) throw new Error(`action "${a.name}" is registered twice`);
      const undo = a.undo?.action;
      if (undo && [...this.byName.values()].some((b) => b.undo?.action === undo))
        throw new Error(`undo "${undo}" is declared twice (by ${a.name})`);
      this.byName.set(a.name, a);
    }
  }

  get(name: string): AnyAction | undefined {
    return this.byName.get(name);
  }

  list(): AnyAction[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.list().map((a) => a.name);
  }
}
