import fs from 'node:fs';
import path from 'node:path';

/** The incident manifest's file name inside `cases/<incident-id>/`. */
export const INCIDENT_FILE = 'incident.json';

/**
 * True when `dir` is an incident folder (holds a regular `incident.json`). Kept apart from
 * evidence/incident.ts so the command tree can ask without loading the archive code.
 */
export function isIncidentDir(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory() && fs.lstatSync(path.join(dir, INCIDENT_FILE)).isFile();
  } catch {
    return false;
  }
}
