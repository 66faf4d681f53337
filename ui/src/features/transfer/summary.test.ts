import { describe, expect, it } from "vitest";
import type { ImportReport } from "../../bindings";
import { counts, defaultFileName, hasWork, headline, percent, range, sortedProblems, takesRange } from "./summary";

const report = (over: Partial<ImportReport> = {}): ImportReport => ({
  file: "products.csv",
  layout: "shopify",
  dry_run: true,
  rows: 7,
  created: 2,
  updated: 0,
  unchanged: 1,
  conflicts: 0,
  invalid: 1,
  skipped: 0,
  items: [
    { handle: "a", name: "A", rows: [2], action: "create", product_id: null, version: null, variants: 1, images: 0, changes: [] },
    { handle: "b", name: "B", rows: [3], action: "create", product_id: null, version: null, variants: 1, images: 0, changes: [] },
    { handle: "c", name: "C", rows: [4], action: "unchanged", product_id: null, version: null, variants: 1, images: 0, changes: [] },
    { handle: "d", name: "D", rows: [5], action: "invalid", product_id: null, version: null, variants: 1, images: 0, changes: [] },
  ],
  problems: [
    { row: 5, column: "Variant Price", reason: "bad", kind: "invalid", handle: "d" },
    { row: 0, column: null, reason: "file", kind: "invalid", handle: null },
  ],
  ignored_columns: [],
  notes: [],
  images_to_fetch: 0,
  cancelled: false,
  stopped: null,
  ...over,
});

describe("import summary", () => {
  it("says what a preview would do, and what an import did", () => {
    expect(headline(report())).toBe("7 rows, 4 products: 2 to create, 1 unchanged, 1 with problems");
    expect(headline(report({ dry_run: false }))).toBe("7 rows, 4 products: 2 created, 1 unchanged, 1 with problems");
    expect(counts(report()).map((c) => c.action)).toEqual(["create", "unchanged", "invalid"]);
  });

  it("tells a cancelled or stopped import apart", () => {
    expect(headline(report({ dry_run: false, cancelled: true, skipped: 3 }))).toMatch(/^Cancelled after 2 created/);
    expect(headline(report({ stopped: "the database went away" }))).toMatch(/^Stopped: the database went away/);
  });

  it("has work only when something would be written", () => {
    expect(hasWork(report())).toBe(true);
    expect(hasWork(report({ created: 0, updated: 0 }))).toBe(false);
  });

  it("lists problems in file order, the file's own first", () => {
    expect(sortedProblems(report()).map((p) => p.row)).toEqual([0, 5]);
  });

  it("counts progress in rows", () => {
    expect(percent(null)).toBe(0);
    expect(percent({ done: 1, total: 4, rows_done: 3, rows_total: 12 })).toBe(25);
  });
});

describe("export helpers", () => {
  it("takes a range for orders and the ledger only", () => {
    expect(takesRange("orders") && takesRange("ledger")).toBe(true);
    expect(takesRange("products") || takesRange("stock")).toBe(false);
  });

  it("includes the last day of a range", () => {
    expect(range("2026-12-01", "2026-12-03")).toEqual({ from: "2026-12-01T00:00:00Z", to: "2026-12-04T00:00:00Z" });
    expect(range("", "")).toEqual({ from: null, to: null });
    expect(range("2026-12-04", "2026-12-03")).toBeNull();
  });

  it("names files by kind and day", () => {
    expect(defaultFileName("ledger", new Date("2026-12-03T10:00:00Z"))).toBe("stockdesk-ledger-2026-12-03.csv");
  });
});
