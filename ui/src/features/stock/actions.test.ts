import { describe, expect, it } from "vitest";
import { parseStockAction } from "./actions";

describe("stock action forms", () => {
  it("receives a positive quantity, with an optional reason", () => {
    expect(parseStockAction("receive", { amount: " 12 ", reason: "" })).toEqual({
      ok: true,
      args: { kind: "receive", quantity: 12, reason: null },
    });
    expect(parseStockAction("receive", { amount: "3", reason: " PO-7 " })).toEqual({
      ok: true,
      args: { kind: "receive", quantity: 3, reason: "PO-7" },
    });
    expect(parseStockAction("receive", { amount: "0", reason: "" })).toEqual({ ok: false, errors: { quantity: "must be at least 1" } });
  });

  it("adjusts by a signed delta and needs a reason", () => {
    expect(parseStockAction("adjust", { amount: "-2", reason: "broken" })).toEqual({
      ok: true,
      args: { kind: "adjust", delta: -2, reason: "broken" },
    });
    expect(parseStockAction("adjust", { amount: "+4", reason: "found" })).toMatchObject({ ok: true, args: { delta: 4 } });
    const r = parseStockAction("adjust", { amount: "0", reason: " " });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(["delta", "reason"]);
  });

  it("counts zero or more", () => {
    expect(parseStockAction("count", { amount: "0", reason: "" })).toEqual({ ok: true, args: { kind: "count", counted: 0 } });
    expect(parseStockAction("count", { amount: "-1", reason: "" })).toEqual({ ok: false, errors: { counted: "must be 0 or more" } });
  });

  it("refuses what is not a whole number", () => {
    for (const amount of ["", "2x", "1.5", "1e3", "99999999999999999999"])
      expect(parseStockAction("count", { amount, reason: "" })).toEqual({ ok: false, errors: { counted: "enter a whole number" } });
  });
});
