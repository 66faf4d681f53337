/** "14:32" left until `deadline`, "expired" once it has passed. Pure, for the orders view and tests. */
export function countdown(deadlineIso: string, now: number): { text: string; urgent: boolean; over: boolean } {
  const ms = new Date(deadlineIso).getTime() - now;
  if (ms <= 0) return { text: "expired", urgent: true, over: true };
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return { text: h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`, urgent: s < 120, over: false };
}
