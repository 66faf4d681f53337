import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import type { EditsReport, HoldsReport, SalesReport, SweeperReport } from "../../bindings";
import { BarChart } from "./BarChart";
import { currencies, editsBars, editsSummary, holdsSummary, moneyText, salesBars, salesSummary, sweepBars, sweepSummary } from "./figures";
import { daysIn, lastDays, rangeProblem } from "./range";

const range = { from: "2026-11-22", to: "2026-11-24", zone: "Europe/Berlin" };

function sales(): SalesReport {
  return {
    range,
    days: [
      { start: "2026-11-22", days: 1, units: 0, orders: 0, revenue: [] },
      { start: "2026-11-23", days: 1, units: 6, orders: 2, revenue: [{ currency: "EUR", amount_minor: 4001 }, { currency: "USD", amount_minor: 5000 }] },
      { start: "2026-11-24", days: 1, units: 2, orders: 1, revenue: [{ currency: "EUR", amount_minor: 2000 }] },
    ],
    weeks: [
      { start: "2026-11-16", days: 1, units: 0, orders: 0, revenue: [] },
      { start: "2026-11-23", days: 2, units: 8, orders: 3, revenue: [{ currency: "EUR", amount_minor: 6001 }, { currency: "USD", amount_minor: 5000 }] },
    ],
    top_products: [],
    total: { units: 8, orders: 3, revenue: [{ currency: "EUR", amount_minor: 6001 }, { currency: "USD", amount_minor: 5000 }] },
  };
}

describe("the date range", () => {
  it("ends today and counts both ends", () => {
    const r = lastDays(30, new Date(2026, 10, 23, 15, 0), "Europe/Berlin");
    expect(r).toEqual({ from: "2026-10-25", to: "2026-11-23", zone: "Europe/Berlin" });
    expect(daysIn(r)).toBe(30);
  });
  it("says what is wrong with typed dates", () => {
    expect(rangeProblem({ from: "2026-11-24", to: "2026-11-23" })).toMatch(/before/);
    expect(rangeProblem({ from: "2025-01-01", to: "2026-01-02" })).toMatch(/366/);
    expect(rangeProblem({ from: "", to: "2026-01-02" })).toMatch(/YYYY-MM-DD/);
    expect(rangeProblem({ from: "2024-01-01", to: "2024-12-31" })).toBeNull();
  });
});

describe("sales figures", () => {
  it("never adds currencies together", () => {
    const r = sales();
    expect(currencies(r)).toEqual(["EUR", "USD"]);
    expect(salesBars(r.days, { kind: "revenue", currency: "USD" }, false).map((b) => b.values.v)).toEqual([0, 5000, 0]);
    expect(salesBars(r.days, { kind: "revenue", currency: "EUR" }, false).map((b) => b.values.v)).toEqual([0, 4001, 2000]);
    expect(salesBars(r.weeks, { kind: "units" }, true).map((b) => b.values.v)).toEqual([0, 8]);
    expect(moneyText(r.total.revenue)).toContain("·");
    expect(moneyText([])).toBe("—");
  });
  it("sums up each chart in words", () => {
    const r = sales();
    expect(salesSummary(r, { kind: "units" }, false)).toMatch(/^Units sold per day, .*: 8 units in all; the best day was .*23.* with 6 units\.$/);
    expect(salesSummary({ ...r, days: r.days.map((d) => ({ ...d, units: 0 })) }, { kind: "units" }, false)).toMatch(/no sales/);
  });
});

describe("holds, edits and sweeper figures", () => {
  it("counts each outcome", () => {
    const holds: HoldsReport = {
      range,
      days: [{ date: "2026-11-23", paid: 2, expired: 1, cancelled: 1, pending: 0 }],
      total: { paid: 2, expired: 1, cancelled: 1, pending: 0 },
    };
    expect(holdsSummary(holds)).toBe(
      "Orders placed per day, by what became of them: 4 in all; 2 paid (50 %), 1 expired (25 %), 1 cancelled (25 %), 0 waiting for payment.",
    );
    const edits: EditsReport = {
      range,
      days: [{ date: "2026-11-23", clean: 1, merged: 1, conflicts: 1 }],
      total: { clean: 1, merged: 1, conflicts: 1 },
      recent_conflicts: [],
    };
    expect(editsBars(edits)[0].values).toEqual({ clean: 1, merged: 1, conflicts: 1 });
    expect(editsSummary(edits)).toMatch(/3 in all; 1 saved on the latest version, 1 merged by themselves .* 1 met a conflict/);
    const sweeper: SweeperReport = {
      range,
      days: [],
      total: { runs: 2, failed: 1 },
      recent: [
        { id: "b", actor: "till-2", started_at: "2026-11-25T08:00:00Z", status: "failed", millis: 1500, errors: 1, orders_expired: 0, error: "expire_orders: busy" },
        { id: "a", actor: "ana", started_at: "2026-11-24T08:00:00Z", status: "ok", millis: 12, errors: 0, orders_expired: 1, error: null },
      ],
    };
    expect(sweepBars(sweeper).map((b) => b.values)).toEqual([{ ok: 12 }, { failed: 1500 }]);
    expect(sweepSummary(sweeper)).toMatch(/ran 2 times .* 1 of them with a failing job; .* at most 1500 ms/);
  });
});

describe("BarChart", () => {
  it("is one named image with a bar per value, stacked per series", () => {
    render(
      <BarChart
        data={[
          { label: "23 Nov", values: { a: 2, b: 1 } },
          { label: "24 Nov", values: { a: 0, b: 3 } },
        ]}
        series={[
          { key: "a", label: "A", tone: 1 },
          { key: "b", label: "B", tone: 2 },
        ]}
        summary="Two days of A and B"
      />,
    );
    const img = screen.getByRole("img", { name: "Two days of A and B" });
    const bars = img.querySelectorAll("rect[data-series]");
    expect([...bars].map((b) => `${b.getAttribute("data-label")}:${b.getAttribute("data-series")}=${b.getAttribute("data-value")}`)).toEqual([
      "23 Nov:a=2",
      "23 Nov:b=1",
      "24 Nov:b=3",
    ]);
    // Stacked: b sits on a on the first day, so its top is above a's.
    const [a, b] = [bars[0], bars[1]].map((r) => Number(r.getAttribute("y")));
    expect(b).toBeLessThan(a);
  });
});
