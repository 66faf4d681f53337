// The date range of the Reports view: presets ending today, or two dates typed; days are counted
// in this computer's time zone (the core cuts them at local midnight, clock changes included).
import type { ReportRange } from "../../bindings";

export const PRESETS = [7, 30, 90, 365] as const;
export const MAX_DAYS = 366;

/** "2026-11-23" of a date in local time. */
export function isoDay(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The `days` days up to and including today. */
export function lastDays(days: number, today: Date = new Date(), zone: string = localZone()): ReportRange {
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
  return { from: isoDay(from), to: isoDay(today), zone };
}

/** Days from `from` to `to`, both included (calendar days, whatever the clocks do). */
export function daysIn(range: Pick<ReportRange, "from" | "to">): number {
  const day = (s: string) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return Math.round((day(range.to) - day(range.from)) / 86_400_000) + 1;
}

/** What is wrong with a typed range, for the person (null: fine). The core checks it again. */
export function rangeProblem(range: Pick<ReportRange, "from" | "to">): string | null {
  const ok = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s));
  if (!ok(range.from) || !ok(range.to)) return "Enter both dates as YYYY-MM-DD.";
  const n = daysIn(range);
  if (n < 1) return "The last day is before the first.";
  if (n > MAX_DAYS) return `A report covers at most ${MAX_DAYS} days.`;
  return null;
}

/** "23 Nov" (or "23 Nov 2026" with the year) of a "2026-11-23" day, as the day it names. */
export function shortDay(iso: string, withYear = false): string {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    ...(withYear ? { year: "numeric" } : {}),
  });
}
