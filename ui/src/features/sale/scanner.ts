// Telling a barcode scanner from a person at the keyboard. A scanner set up as a keyboard (a
// "wedge") types the code's characters a few milliseconds apart and ends with Enter; a person
// types far slower, even in a burst. The search box records when each character key went down
// since it was last empty, and on Enter asks whether that was a scan.

/** The longest pause between a scanner's keystrokes (scanners send 1–20 ms apart; people rarely type two keys within 50 ms, never a whole code). */
export const SCAN_MAX_GAP_MS = 50;
/** The fewest characters a scan has (an EAN-8 has 8; shorter bursts are a fast person). */
export const SCAN_MIN_LENGTH = 6;

/**
 * Keystroke times of one entry in the search box. `key` on every keydown, `clear` when the box
 * is emptied; `isScan` on Enter.
 */
export class KeystrokeTimer {
  private stamps: number[] = [];

  /** A keydown of `key` at `at` ms: a printable character is recorded; editing keys break a scan. */
  key(key: string, at: number): void {
    if (key.length === 1) this.stamps.push(at);
    else if (key === "Backspace" || key === "Delete") this.stamps = [Number.NEGATIVE_INFINITY];
  }

  clear(): void {
    this.stamps = [];
  }

  /** Whether `text`, entered with Enter at `enterAt`, came from a scanner. */
  isScan(text: string, enterAt: number): boolean {
    return isScan(text, this.stamps, enterAt);
  }
}

/**
 * Whether the entry `text` was typed by a scanner: every one of its characters came from a
 * keystroke (nothing pasted or typed before a pause), at least `SCAN_MIN_LENGTH` of them, each
 * within `SCAN_MAX_GAP_MS` of the one before and the last within that of the Enter.
 */
export function isScan(text: string, stamps: readonly number[], enterAt: number): boolean {
  if (text.length < SCAN_MIN_LENGTH || stamps.length !== text.length) return false;
  const times = [...stamps, enterAt];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (!(gap >= 0 && gap <= SCAN_MAX_GAP_MS)) return false;
  }
  return true;
}
