import { isUtf8 } from 'node:buffer';

/**
 * A name from the container as JSON fields: `{text}` when its bytes are valid UTF-8, otherwise the
 * decoded text (with U+FFFD) plus the exact bytes in base64 (evidence-formats.md: `pathB64`).
 */
export function nameFields(bytes: Buffer): { text: string; b64?: string } {
  const text = bytes.toString('utf8');
  return isUtf8(bytes) ? { text } : { text, b64: bytes.toString('base64') };
}
