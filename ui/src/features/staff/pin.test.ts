import { describe, expect, it } from "vitest";
import type { Refusal } from "../../bindings";
import { CommandError } from "../../lib/api";
import { keyOf, lockedUntil, PIN_MAX, pinRefusal, press } from "./pin";

const plain = { ctrlKey: false, altKey: false, metaKey: false };

describe("the PIN pad's keys", () => {
  it("takes digits, Backspace and Enter from the keyboard, nothing else", () => {
    expect(keyOf({ ...plain, key: "7" })).toEqual({ type: "digit", digit: "7" });
    expect(keyOf({ ...plain, key: "0" })).toEqual({ type: "digit", digit: "0" });
    expect(keyOf({ ...plain, key: "Backspace" })).toEqual({ type: "back" });
    expect(keyOf({ ...plain, key: "Enter" })).toEqual({ type: "enter" });
    for (const key of ["a", " ", "Tab", "Escape", "٣", "F5"]) expect(keyOf({ ...plain, key })).toBeNull();
    // Shortcuts are not digits.
    expect(keyOf({ ...plain, key: "1", ctrlKey: true })).toBeNull();
    expect(keyOf({ ...plain, key: "1", altKey: true })).toBeNull();
  });

  it("adds digits up to the longest PIN, deletes the last one, and tries only a PIN typed", () => {
    expect(press("12", { type: "digit", digit: "3" })).toEqual({ pin: "123", submit: false });
    const full = "1".repeat(PIN_MAX);
    expect(press(full, { type: "digit", digit: "2" })).toEqual({ pin: full, submit: false });
    expect(press("123", { type: "back" })).toEqual({ pin: "12", submit: false });
    expect(press("", { type: "back" })).toEqual({ pin: "", submit: false });
    expect(press("", { type: "enter" })).toEqual({ pin: "", submit: false });
    expect(press("2468", { type: "enter" })).toEqual({ pin: "2468", submit: true });
  });
});

describe("what a refused sign-in says", () => {
  const forbidden = (details: Refusal) => new CommandError({ code: "forbidden", message: "refused", details });

  it("counts the tries left", () => {
    expect(pinRefusal(forbidden({ reason: "wrong_pin", attempts_left: 4 }), "Sam")).toEqual({ text: "Wrong PIN. 4 tries left.", locked: null });
    expect(pinRefusal(forbidden({ reason: "wrong_pin", attempts_left: 1 }), "Sam").text).toBe("Wrong PIN. 1 try left.");
  });

  it("says until when a profile is locked", () => {
    const until = "2026-12-03T14:05:00Z";
    const r = pinRefusal(forbidden({ reason: "locked", until }), "Sam");
    expect(r.locked).toBe(until);
    expect(r.text).toMatch(/^Sam is locked after too many wrong PINs until .+\.$/);
  });

  it("names a removed or unknown profile, and falls back to the code's headline", () => {
    expect(pinRefusal(forbidden({ reason: "removed" }), "Sam").text).toBe("Sam's profile was removed.");
    const missing = new CommandError({ code: "not_found", message: "no such", details: { entity: "staff profile", id: "Sam" } });
    expect(pinRefusal(missing, "Sam").text).toBe("There is no profile called Sam any more.");
    const busy = new CommandError({ code: "busy", message: "busy", details: {} });
    expect(pinRefusal(busy, "Sam").text).toContain("busy");
  });

  it("knows a lock that ran out is no lock", () => {
    const now = Date.parse("2026-12-03T14:00:00Z");
    expect(lockedUntil({ locked_until: "2026-12-03T14:05:00Z" }, now)).toBe("2026-12-03T14:05:00Z");
    expect(lockedUntil({ locked_until: "2026-12-03T13:59:00Z" }, now)).toBeNull();
    expect(lockedUntil({ locked_until: null }, now)).toBeNull();
  });
});
