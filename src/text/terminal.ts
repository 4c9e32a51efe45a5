import { redactUrlsIn } from '../errors.js';

/**
 * Control characters other than newline and tab: C0, DEL and C1. ESC (0x1b) and CSI (0x9b) start the sequences a
 * terminal obeys (move the cursor, rewrite the title, hide text); the others ring bells or erase.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * The one gate for text that reaches a terminal or a log: names from a manifest, a Packages index or an upstream's
 * error text are shown, never obeyed. Control characters become visible `\xNN` escapes, and credentials in URLs are
 * redacted. Pure.
 */
export function safeForTerminal(text: string): string {
  return redactUrlsIn(text).replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
