// Pure helpers of the import and export dialogs: what a report says in a line, which rows to
// show, file names and time ranges. No calls to the backend here.
import type { ExportKind, ImportAction, ImportProgress, ImportReport, RowProblem } from "../../bindings";

/** Counts of a report by what happened, in the order a person reads them (zeros left out). */
export function counts(r: ImportReport): { action: ImportAction; label: string; n: number }[] {
  const verb = (done: string, would: string) => (r.dry_run ? would : done);
  const all: { action: ImportAction; label: string; n: number }[] = [
    { action: "create", label: verb("created", "to create"), n: r.created },
    { action: "update", label: verb("updated", "to update"), n: r.updated },
    { action: "unchanged", label: "unchanged", n: r.unchanged },
    { action: "conflict", label: "conflicts", n: r.conflicts },
    { action: "invalid", label: "with problems", n: r.invalid },
    { action: "skipped", label: "not reached", n: r.skipped },
  ];
  return all.filter((c) => c.n > 0);
}

/** One line for the top of the dialog. */
export function headline(r: ImportReport): string {
  const products = r.items.length;
  const parts = counts(r).map((c) => `${c.n} ${c.label}`);
  const what = `${r.rows} rows, ${products} product${products === 1 ? "" : "s"}`;
  if (r.stopped) return `Stopped: ${r.stopped} (${parts.join(", ")})`;
  if (r.cancelled) return `Cancelled after ${parts.join(", ")}`;
  return `${what}: ${parts.join(", ") || "nothing to do"}`;
}

/** Whether running the import would write anything. */
export function hasWork(r: ImportReport): boolean {
  return r.created + r.updated > 0;
}

/** Problems in file order, file-level ones (row 0) first. */
export function sortedProblems(r: ImportReport): RowProblem[] {
  return [...r.problems].sort((a, b) => a.row - b.row || (a.column ?? "").localeCompare(b.column ?? ""));
}

/** How far an import is, 0–100. */
export function percent(p: ImportProgress | null): number {
  if (!p || p.rows_total === 0) return 0;
  return Math.min(100, Math.round((100 * p.rows_done) / p.rows_total));
}

/** A time range applies to orders and the ledger only. */
export function takesRange(kind: ExportKind): boolean {
  return kind === "orders" || kind === "ledger";
}

/** `stockdesk-ledger-2026-12-03.csv`. */
export function defaultFileName(kind: ExportKind, today: Date = new Date()): string {
  return `stockdesk-${kind}-${today.toISOString().slice(0, 10)}.csv`;
}

/**
 * The range of two date fields (`YYYY-MM-DD`, either empty) as times in UTC: from that day's
 * start, to the end of the `to` day (it is included). Null when the range runs backwards.
 */
export function range(from: string, to: string): { from: string | null; to: string | null } | null {
  const start = from ? `${from}T00:00:00Z` : null;
  let end: string | null = null;
  if (to) {
    const d = new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    end = d.toISOString().replace(".000Z", "Z");
  }
  if (start && end && start >= end) return null;
  return { from: start, to: end };
}
