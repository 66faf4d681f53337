// Pure: what the Reports view draws and says, from the core's reports. Amounts stay per currency
// (never added across currencies); each chart gets a one-line summary for assistive technology,
// beside the table of its figures.
import type { EditsReport, HoldCounts, HoldsReport, Money, SalesPeriod, SalesReport, SweeperReport } from "../../bindings";
import { formatMoney } from "../../lib/format";
import type { BarDatum, Series } from "./BarChart";
import { shortDay } from "./range";

export type SalesMetric = { kind: "units" } | { kind: "revenue"; currency: string };

/** Currencies sold in, the biggest revenue first. */
export function currencies(report: SalesReport): string[] {
  return [...report.total.revenue].sort((a, b) => b.amount_minor - a.amount_minor).map((m) => m.currency);
}

export function amountIn(money: Money[], currency: string): number {
  return money.find((m) => m.currency === currency)?.amount_minor ?? 0;
}

export function moneyText(money: Money[]): string {
  return money.length === 0 ? "—" : money.map((m) => formatMoney(m.amount_minor, m.currency)).join(" · ");
}

export function metricLabel(metric: SalesMetric): string {
  return metric.kind === "units" ? "Units sold" : `Revenue in ${metric.currency}`;
}

export function salesBars(periods: SalesPeriod[], metric: SalesMetric, weeks: boolean): BarDatum[] {
  return periods.map((p) => ({
    label: weeks ? `wk ${shortDay(p.start)}` : shortDay(p.start),
    values: { v: metric.kind === "units" ? p.units : amountIn(p.revenue, metric.currency) },
  }));
}

export function salesSummary(report: SalesReport, metric: SalesMetric, weeks: boolean): string {
  const periods = weeks ? report.weeks : report.days;
  const value = (p: SalesPeriod) => (metric.kind === "units" ? p.units : amountIn(p.revenue, metric.currency));
  const show = (n: number) => (metric.kind === "units" ? `${n} units` : formatMoney(n, metric.currency));
  const best = periods.reduce<SalesPeriod | null>((b, p) => (b === null || value(p) > value(b) ? p : b), null);
  const per = weeks ? "week" : "day";
  const range = `${shortDay(report.range.from, true)} to ${shortDay(report.range.to, true)}`;
  if (!best || value(best) === 0) return `${metricLabel(metric)} per ${per}, ${range}: no sales.`;
  const total = periods.reduce((s, p) => s + value(p), 0);
  return `${metricLabel(metric)} per ${per}, ${range}: ${show(total)} in all; the best ${per} was ${
    weeks ? "the week of " : ""
  }${shortDay(best.start, true)} with ${show(value(best))}.`;
}

export const HOLD_SERIES: Series[] = [
  { key: "paid", label: "Paid", tone: 1 },
  { key: "expired", label: "Expired", tone: 3 },
  { key: "cancelled", label: "Cancelled", tone: 4 },
  { key: "pending", label: "Waiting for payment", tone: 2 },
];

export function holdsBars(report: HoldsReport): BarDatum[] {
  return report.days.map((d) => ({ label: shortDay(d.date), values: counts(d) }));
}

function counts(c: HoldCounts): Record<string, number> {
  return { paid: c.paid, expired: c.expired, cancelled: c.cancelled, pending: c.pending };
}

export function holdsSummary(report: HoldsReport): string {
  const t = report.total;
  const all = t.paid + t.expired + t.cancelled + t.pending;
  if (all === 0) return "Orders placed per day: none in this range.";
  const pct = (n: number) => `${Math.round((n * 100) / all)} %`;
  return `Orders placed per day, by what became of them: ${all} in all; ${t.paid} paid (${pct(t.paid)}), ${t.expired} expired (${pct(
    t.expired,
  )}), ${t.cancelled} cancelled (${pct(t.cancelled)}), ${t.pending} waiting for payment.`;
}

export const EDIT_SERIES: Series[] = [
  { key: "clean", label: "Saved on the latest version", tone: 1 },
  { key: "merged", label: "Merged by themselves", tone: 2 },
  { key: "conflicts", label: "Met a conflict", tone: 3 },
];

export function editsBars(report: EditsReport): BarDatum[] {
  return report.days.map((d) => ({
    label: shortDay(d.date),
    values: { clean: d.clean, merged: d.merged, conflicts: d.conflicts },
  }));
}

export function editsSummary(report: EditsReport): string {
  const t = report.total;
  const all = t.clean + t.merged + t.conflicts;
  if (all === 0) return "Edits per day: none in this range.";
  return `Edits per day: ${all} in all; ${t.clean} saved on the latest version, ${t.merged} merged by themselves with someone else's changes, ${t.conflicts} met a conflict.`;
}

export const SWEEP_SERIES: Series[] = [
  { key: "ok", label: "Ran fine", tone: 1 },
  { key: "failed", label: "A job failed", tone: 3 },
  { key: "running", label: "Did not finish", tone: 4 },
];

/** The latest runs, oldest first, as bars of how long each took. */
export function sweepBars(report: SweeperReport): BarDatum[] {
  return [...report.recent].reverse().map((r) => ({
    label: new Date(r.started_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
    values: { [r.status]: r.millis ?? 0 },
  }));
}

export function sweepSummary(report: SweeperReport): string {
  const t = report.total;
  if (t.runs === 0) return "The sweeper did not run in this range.";
  const slowest = report.recent.reduce((m, r) => Math.max(m, r.millis ?? 0), 0);
  return `The sweeper ran ${t.runs} times in this range, ${t.failed} of them with a failing job; the latest ${report.recent.length} runs took at most ${slowest} ms.`;
}
