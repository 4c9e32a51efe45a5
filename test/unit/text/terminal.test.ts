import { describe, expect, it } from 'vitest';
import { safeForTerminal } from '../../../src/text/terminal.js';

describe('safeForTerminal', () => {
  it('shows escape sequences instead of letting the terminal obey them', () => {
    // Set the window title, clear the screen, hide the rest with "conceal", and the 8-bit CSI.
    const hostile = 'pkg\u001b]0;owned\u0007\u001b[2J\u001b[8mhidden\u009b31m';
    const out = safeForTerminal(hostile);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toBe('pkg\\x1b]0;owned\\x07\\x1b[2J\\x1b[8mhidden\\x9b31m');
  });

  it('keeps newlines, tabs and non-ASCII text', () => {
    expect(safeForTerminal('a\tb\nkubeadm – ok ✓')).toBe('a\tb\nkubeadm – ok ✓');
  });

  it('redacts credentials in URLs on the way', () => {
    expect(safeForTerminal('fetching https://u:pw@h/x?token=t')).toBe('fetching https://***@h/x?token=***');
  });
});
