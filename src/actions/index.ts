import { containPause, containUnpause } from './contain-pause.js';
import { ActionRegistry } from './registry.js';

/** Every action cirt knows. Add new ones here: there is no discovery. */
export const registry = new ActionRegistry([containPause, containUnpause]);
