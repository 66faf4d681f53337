import { describe, expect, it } from "vitest";
import type { VariantForSale } from "../../bindings";
import { CommandError } from "../../lib/api";
import { notFound, refusalNotice } from "./notice";
import { emptySale, orderOf, saleReducer, totals, wantsMoreThanAvailable, type SaleAction, type SaleState } from "./sale";

function v(sku: string, over: Partial<VariantForSale> = {}): VariantForSale {
  return {
    variant_id: `v-${sku}`,
    product_id: "00000000-0000-7000-8000-0000000000p1",
    product_name: "Linen Tee",
    variant_label: "M / Navy",
    sku,
    barcode: null,
    price_minor: 2500,
    currency: "EUR",
    available: 3,
    matched: "barcode",
    ...over,
  };
}

const run = (...actions: SaleAction[]): SaleState => actions.reduce(saleReducer, emptySale);

describe("the sale's lines", () => {
  it("a scan adds a line, the same scan again one more", () => {
    const a = v("TEE-M");
    const s = run({ type: "add", variant: a }, { type: "add", variant: v("MUG") }, { type: "add", variant: a });
    expect(s.lines.map((l) => [l.variant.sku, l.quantity])).toEqual([
      ["TEE-M", "2"],
      ["MUG", "1"],
    ]);
  });

  it("a new look-up's figures replace the line's", () => {
    const s = run({ type: "add", variant: v("TEE-M", { available: 3 }) }, { type: "add", variant: v("TEE-M", { available: 1 }) });
    expect(s.lines[0].variant.available).toBe(1);
    expect(wantsMoreThanAvailable(s.lines[0])).toBe(true);
  });

  it("keeps a quantity being typed, and adds to a whole one", () => {
    const a = v("TEE-M");
    const typing = run({ type: "add", variant: a }, { type: "quantity", variantId: a.variant_id, quantity: "" }, { type: "add", variant: a });
    expect(typing.lines[0].quantity).toBe("");
    const set = run({ type: "add", variant: a }, { type: "quantity", variantId: a.variant_id, quantity: "5" }, { type: "add", variant: a });
    expect(set.lines[0].quantity).toBe("6");
  });

  it("removes a line and clears the sale", () => {
    const a = v("TEE-M");
    expect(run({ type: "add", variant: a }, { type: "remove", variantId: a.variant_id }).lines).toEqual([]);
    expect(run({ type: "add", variant: a }, { type: "clear" })).toEqual(emptySale);
  });

  it("marks the line the core found short, until it changes", () => {
    const a = v("TEE-M", { available: 3 });
    const refused = run({ type: "add", variant: a }, { type: "refused", variantId: a.variant_id, requested: 1, available: 0 });
    expect(refused.lines[0].short).toEqual({ requested: 1, available: 0 });
    expect(refused.lines[0].variant.available).toBe(0);
    const changed = saleReducer(refused, { type: "quantity", variantId: a.variant_id, quantity: "1" });
    expect(changed.lines[0].short).toBeNull();
  });
});

describe("totals and the order", () => {
  it("sums per currency from the core's prices", () => {
    const s = run(
      { type: "add", variant: v("A", { price_minor: 1000 }) },
      { type: "add", variant: v("A", { price_minor: 1000 }) },
      { type: "add", variant: v("B", { price_minor: 250, currency: "USD" }) },
    );
    expect(totals(s)).toEqual([
      { currency: "EUR", amount_minor: 2000 },
      { currency: "USD", amount_minor: 250 },
    ]);
    expect(totals(emptySale)).toEqual([]);
  });

  it("has no total and no order while a quantity is not a number", () => {
    const a = v("A");
    const s = run({ type: "add", variant: a }, { type: "quantity", variantId: a.variant_id, quantity: "2x" });
    expect(totals(s)).toBeNull();
    expect(orderOf(s, false)).toEqual({ unreadable: [a.variant_id] });
  });

  it("paid now uses the default window; a hold asks for 15 minutes", () => {
    const a = v("A");
    const s = run({ type: "add", variant: a }, { type: "add", variant: a });
    expect(orderOf(s, false)).toEqual({ order: { items: [{ variant_id: a.variant_id, quantity: 2 }], expires_in_secs: null } });
    expect(orderOf(s, true)).toEqual({ order: { items: [{ variant_id: a.variant_id, quantity: 2 }], expires_in_secs: 900 } });
  });
});

describe("what the view says", () => {
  it("an unknown scan names the barcode", () => {
    expect(notFound("4006381333931", true).text).toBe("No product has the barcode 4006381333931. Nothing was added.");
    expect(notFound("wool", false).text).toBe("Nothing matches “wool”.");
  });

  it("a refusal for short stock names the line, by the error's code", () => {
    const a = v("TEE-M");
    const s = run({ type: "add", variant: a });
    const e = new CommandError({
      code: "insufficient_stock",
      message: "only 0 left",
      details: { variant_id: a.variant_id, requested: 1, available: 0 },
    });
    const r = refusalNotice(e, s.lines);
    expect(r.short).toEqual({ variantId: a.variant_id, requested: 1, available: 0 });
    expect(r.notice.text).toBe("Not enough stock of Linen Tee · M / Navy (TEE-M): 1 wanted, 0 available. Nothing was sold.");
    const other = refusalNotice(new CommandError({ code: "busy", message: "busy", details: {} }), s.lines);
    expect(other.short).toBeNull();
    expect(other.notice.tone).toBe("error");
  });
});
