import { describe, expect, it } from "vitest";
import { isScan, KeystrokeTimer, SCAN_MAX_GAP_MS } from "./scanner";

/** Keystrokes of `text` from `start`, `gap` ms apart; returns when Enter would follow. */
function typeInto(timer: KeystrokeTimer, text: string, start: number, gap: number): number {
  let at = start;
  for (const ch of text) {
    timer.key(ch, at);
    at += gap;
  }
  return at;
}

describe("scanner or person", () => {
  it("takes a burst of keystrokes ending in Enter for a scan", () => {
    const t = new KeystrokeTimer();
    const enter = typeInto(t, "4006381333931", 1000, 8);
    expect(t.isScan("4006381333931", enter)).toBe(true);
  });

  it("takes a person's typing, even fast, for typing", () => {
    const t = new KeystrokeTimer();
    const enter = typeInto(t, "4006381333931", 1000, 90);
    expect(t.isScan("4006381333931", enter)).toBe(false);
  });

  it("one pause longer than a scanner's breaks the scan", () => {
    const t = new KeystrokeTimer();
    let at = typeInto(t, "400638", 0, 10);
    at += SCAN_MAX_GAP_MS + 100;
    at = typeInto(t, "1333931", at, 10);
    expect(t.isScan("4006381333931", at)).toBe(false);
  });

  it("a slow Enter after a fast burst is typing (someone checked the code first)", () => {
    const t = new KeystrokeTimer();
    const done = typeInto(t, "96385074", 0, 5);
    expect(t.isScan("96385074", done + 400)).toBe(false);
    expect(t.isScan("96385074", done)).toBe(true);
  });

  it("short bursts are a fast person, not a scanner", () => {
    const t = new KeystrokeTimer();
    const enter = typeInto(t, "mug", 0, 5);
    expect(t.isScan("mug", enter)).toBe(false);
  });

  it("text not typed key by key (pasted, or edited with backspace) is not a scan", () => {
    expect(isScan("4006381333931", [0, 5, 10], 15)).toBe(false);
    const t = new KeystrokeTimer();
    let at = typeInto(t, "40063813339", 0, 5);
    t.key("Backspace", at);
    at = typeInto(t, "31", at + 5, 5);
    expect(t.isScan("400638133331", at)).toBe(false);
  });

  it("starts over when the box is emptied", () => {
    const t = new KeystrokeTimer();
    typeInto(t, "slow", 0, 300);
    t.clear();
    const enter = typeInto(t, "4006381333931", 5000, 4);
    expect(t.isScan("4006381333931", enter)).toBe(true);
  });

  it("ignores keys that type nothing, like Shift", () => {
    const t = new KeystrokeTimer();
    t.key("Shift", 0);
    const enter = typeInto(t, "ABC-123", 1, 6);
    expect(t.isScan("ABC-123", enter)).toBe(true);
  });
});
