// The PIN pad's logic, without React: which key does what, and what a refused sign-in says.
import type { StaffProfile } from "../../bindings";
import { apiError, explain } from "../../lib/api";

/** The pad takes no more digits than the longest PIN the core accepts. */
export const PIN_MAX = 12;

export type PinKey = { type: "digit"; digit: string } | { type: "back" } | { type: "enter" };

/** The pad key a keyboard key stands for (digits of either keyboard, Backspace, Enter), or null. */
export function keyOf(e: Pick<KeyboardEvent, "key" | "ctrlKey" | "altKey" | "metaKey">): PinKey | null {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  if (/^[0-9]$/.test(e.key)) return { type: "digit", digit: e.key };
  if (e.key === "Backspace") return { type: "back" };
  if (e.key === "Enter") return { type: "enter" };
  return null;
}

/** The PIN after `key`, and whether to try it now. */
export function press(pin: string, key: PinKey): { pin: string; submit: boolean } {
  switch (key.type) {
    case "digit":
      return { pin: pin.length < PIN_MAX ? pin + key.digit : pin, submit: false };
    case "back":
      return { pin: pin.slice(0, -1), submit: false };
    case "enter":
      return { pin, submit: pin.length > 0 };
  }
}

/** Local clock time, for "locked until 14:05". */
export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** Until when `profile` is locked after wrong PINs, or null (also once that time passed). */
export function lockedUntil(profile: Pick<StaffProfile, "locked_until">, now: number = Date.now()): string | null {
  const until = profile.locked_until;
  return until !== null && new Date(until).getTime() > now ? until : null;
}

export type PinRefusal = { text: string; locked: string | null };

/** What the pad says when signing `name` in was refused, from the error's code and details. */
export function pinRefusal(e: unknown, name: string): PinRefusal {
  const api = apiError(e);
  if (api?.code === "forbidden") {
    const d = api.details;
    switch (d.reason) {
      case "wrong_pin":
        return { text: `Wrong PIN. ${d.attempts_left} ${d.attempts_left === 1 ? "try" : "tries"} left.`, locked: null };
      case "locked":
        return { text: `${name} is locked after too many wrong PINs until ${clockTime(d.until)}.`, locked: d.until };
      case "removed":
        return { text: `${name}'s profile was removed.`, locked: null };
      default:
        return { text: explain(e), locked: null };
    }
  }
  if (api?.code === "not_found") return { text: `There is no profile called ${name} any more.`, locked: null };
  return { text: explain(e), locked: null };
}
