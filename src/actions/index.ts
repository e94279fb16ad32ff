import { collectEvents } from './collect-events.js';
import { collectExport } from './collect-export.js';
import { collectFsDiff } from './collect-fs-diff.js';
import { collectImageCommit } from './collect-image-commit.js';
import { collectInspect } from './collect-inspect.js';
import { collectLogs } from './collect-logs.js';
import { collectMemory } from './collect-memory.js';
import { collectMounts } from './collect-mounts.js';
import { collectNetwork } from './collect-network.js';
import { collectProcesses } from './collect-processes.js';
import { collectProcessFiles } from './collect-process-files.js';
import { collectTraffic } from './collect-traffic.js';
import { containKill } from './contain-kill.js';
import { containKillProcess } from './contain-kill-process.js';
import { containLimit } from './contain-limit.js';
import { containNetworkIsolate } from './contain-network-isolate.js';
import { containPause, containUnpause } from './contain-pause.js';
import { containRestartPolicy } from './contain-restart-policy.js';
import { containRestrictEgress } from './contain-restrict-egress.js';
import { containStop } from './contain-stop.js';
import { evidenceFindings } from './evidence-findings.js';
import { evidenceSeal } from './evidence-seal.js';
import { evidenceTimeline } from './evidence-timeline.js';
import { evidenceYara } from './evidence-yara.js';
import { ActionRegistry } from '../runner/registry.js';

/** Every action cirt knows. Add new ones here: there is no discovery. */
export const registry = new ActionRegistry([
  containPause,
  containUnpause,
  containNetworkIsolate,
  containRestrictEgress,
  containRestartPolicy,
  containLimit,
  containStop,
  containKill,
  containKillProcess,
  collectInspect,
  collectLogs,
  collectEvents,
  collectProcesses,
  collectProcessFiles,
  collectNetwork,
  collectImageCommit,
  collectFsDiff,
  collectMounts,
  collectMemory,
  collectExport,
  collectTraffic,
  evidenceTimeline,
  evidenceFindings,
  evidenceYara,
  evidenceSeal,
]);
