/** cirt's quarantine conventions, the same on every runtime. */

/** Label that marks a network cirt made (or accepts) as a quarantine network. */
export const QUARANTINE_LABEL = 'cirt.quarantine';
export const DEFAULT_QUARANTINE = 'cirt-quarantine';
/** Network names as engines accept them. */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
/**
 * The quarantine endpoint carries this alias so `cirt ps` can tell, from the runtime alone,
 * which case quarantined a container (labels cannot be changed on an existing container).
 */
const CASE_ALIAS_PREFIX = 'cirt-case-';

export function caseAlias(caseId: string): string {
  return `${CASE_ALIAS_PREFIX}${caseId}`;
}

/** The case id from a quarantine endpoint's aliases, if cirt put one there. */
export function caseFromAliases(aliases: readonly string[] | null | undefined): string | undefined {
  const a = (aliases ?? []).find((x) => x.startsWith(CASE_ALIAS_PREFIX));
  return a?.slice(CASE_ALIAS_PREFIX.length);
}
