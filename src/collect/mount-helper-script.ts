/**
 * The shell script (POSIX sh; busybox: stat, head, readlink, wc) that walks mounts inside a helper
 * container joined to the target's pid namespace, where the target's root is /proc/1/root.
 *
 * Output is length-framed sections (collect/sections.ts), so no file name or content can forge one:
 *   m.<n> 0        a mount starts (n as in fs/mounts.json)
 *   skip 0         not walked: the step's maxFiles is used up
 *   missing 0      the mount point is not there
 *   n <len>        an entry's path (raw bytes, from the container's root)
 *   s <len>        its lstat: `%f %s %d %u %g %i %h %t %T %x %y %z` (hex mode, size, dev, …, three times)
 *   l <len>|-1     a symlink's own text (readlink, which follows nothing; one trailing newline added)
 *   c <len>|-1     a regular file's first bytes, at most min(maxFileBytes, what is left of maxTotalBytes)
 *   full <len>     maxFiles reached at this path: the rest of the mount is not recorded
 *   end 0          the mount is done
 * Only regular files are read (head); a FIFO, socket or device is stat'ed, never opened; a symlink
 * is read with readlink, never followed; a directory on another device (a nested mount) is not
 * entered. The helper has no host path mounted: whatever a race could make it follow, the host's
 * files are not in its view.
 */
export interface HelperWalkLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
  maxDepth: number;
}

/** Single-quoted for sh: any bytes but NUL survive. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function mountWalkScript(
  mounts: { n: number; mountPoint: string }[],
  lim: HelperWalkLimits,
): string {
  return [
    'set -u',
    'export LC_ALL=C',
    'T=/cirt',
    'R=/proc/1/root',
    `MAXF=${Math.floor(lim.maxFileBytes)}`,
    `LEFT=${Math.floor(lim.maxTotalBytes)}`,
    `MAXN=${Math.floor(lim.maxFiles)}`,
    `MAXD=${Math.floor(lim.maxDepth)}`,
    'COUNT=0',
    'frame() { printf \'%s %s\\n\' "$1" "$(wc -c < "$2")"; cat "$2"; }',
    // ${#} counts bytes under LC_ALL=C.
    'str() { printf \'%s %s\\n%s\' "$1" "${#2}" "$2"; }',
    'walk() {',
    '  local d="$1" dep="$2" dev="$3" f',
    '  for f in "$R$d"/* "$R$d"/.[!.]* "$R$d"/..?*; do',
    '    [ -e "$f" ] || [ -L "$f" ] || continue',
    '    entry "${f#"$R"}" "$dep" "$dev" || return 1',
    '  done',
    '}',
    'entry() {',
    '  local p="$1" dep="$2" mdev="$3" st t room k',
    '  if [ "$COUNT" -ge "$MAXN" ]; then str full "$p"; return 1; fi',
    // Gone between the listing and now: nothing to record.
    '  st=$(stat -c \'%f %s %d %u %g %i %h %t %T %x %y %z\' "$R$p" 2>/dev/null) || return 0',
    '  COUNT=$((COUNT + 1))',
    '  str n "$p"',
    '  str s "$st"',
    '  set -- $st',
    '  t=$((0x$1 & 61440))',
    '  [ "$3" = "$mdev" ] || return 0',
    '  case $t in',
    '    16384) if [ "$dep" -lt "$MAXD" ]; then walk "$p" $((dep + 1)) "$mdev" || return 1; fi ;;',
    '    40960) if readlink "$R$p" > "$T/l" 2>/dev/null; then frame l "$T/l"; else printf \'l -1\\n\'; fi ;;',
    '    32768)',
    '      room=$MAXF; [ "$LEFT" -lt "$room" ] && room=$LEFT',
    '      if [ "$room" -le 0 ]; then : > "$T/o"; frame c "$T/o"',
    '      elif head -c "$room" "$R$p" > "$T/o" 2>/dev/null; then k=$(wc -c < "$T/o"); printf \'c %s\\n\' "$k"; cat "$T/o"; LEFT=$((LEFT - k))',
    "      else printf 'c -1\\n'; fi ;;",
    '  esac',
    '  return 0',
    '}',
    'onemount() {',
    '  printf \'m.%s 0\\n\' "$1"',
    '  if [ "$COUNT" -ge "$MAXN" ]; then printf \'skip 0\\n\'; return; fi',
    '  if [ ! -e "$R$2" ] && [ ! -L "$R$2" ]; then printf \'missing 0\\n\'; return; fi',
    '  entry "$2" 0 "$(stat -c %d "$R$2")" || :',
    "  printf 'end 0\\n'",
    '}',
    ...mounts.map((m) => `onemount ${m.n} ${shQuote(m.mountPoint)}`),
    '',
  ].join('\n');
}

/** Labels the script prints. */
export const WALK_LABEL = /^(m\.\d{1,6}|skip|missing|n|s|l|c|full|end)$/;
