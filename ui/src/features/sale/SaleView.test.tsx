import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { NewOrder, Order, Session, VariantForSale } from "../../bindings";
import { CommandError } from "../../lib/api";
import { PermissionsContext, permissionsOf } from "../staff/permissions";
import type { CheckoutFn } from "./checkout";
import { SaleView, type FindFn } from "./SaleView";

const TEE: VariantForSale = {
  variant_id: "v-tee",
  product_id: "p-tee",
  product_name: "Linen Tee",
  variant_label: "M",
  sku: "TEE-M",
  barcode: "4006381333931",
  price_minor: 2500,
  currency: "EUR",
  available: 2,
  matched: "barcode",
};
const MUG: VariantForSale = { ...TEE, variant_id: "v-mug", product_id: "p-mug", product_name: "Linen Mug", variant_label: "", sku: "MUG-1", barcode: null, price_minor: 900 };

/** The core's look-up, over two variants. */
const find: FindFn = async (q) => {
  if (q === TEE.barcode) return [TEE];
  if (q === "MUG-1") return [{ ...MUG, matched: "sku" }];
  const text = q.toLowerCase();
  return [TEE, MUG].filter((v) => v.product_name.toLowerCase().includes(text)).map((v) => ({ ...v, matched: "text" as const }));
};

const seller = { permissions: ["sell"], withheld: [], shop_has_profiles: false, profile: null } as unknown as Session;

/** A clock for keystroke timing that moves `step` ms a call: 5 is a scanner, 150 a person. */
function clock(step: number) {
  let t = 0;
  return () => (t += step);
}

function renderSale(props: { checkout?: CheckoutFn; step?: number } = {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={qc}>
      <PermissionsContext.Provider value={permissionsOf(seller)}>
        <SaleView active find={find} checkout={props.checkout} now={clock(props.step ?? 5)} />
      </PermissionsContext.Provider>
    </QueryClientProvider>,
  );
  return { user, search: screen.getByRole("combobox", { name: "Scan or search" }) };
}

const lines = () => screen.queryAllByTestId("sale-line").map((r) => [r.dataset.sku, (within(r).getByRole("textbox") as HTMLInputElement).value]);

function order(items: NewOrder["items"]): Order {
  return { id: "o-1", totals: [{ currency: "EUR", amount_minor: 5000 }], items: items.map(() => ({})) } as unknown as Order;
}

describe("the sale view", () => {
  it("takes the focus, adds a scanned barcode, and one more on the next scan", async () => {
    const { user, search } = renderSale();
    expect(search).toHaveFocus();
    await user.type(search, "4006381333931{Enter}");
    await waitFor(() => expect(lines()).toEqual([["TEE-M", "1"]]));
    expect(search).toHaveValue("");
    expect(search).toHaveFocus();
    await user.type(search, "4006381333931{Enter}");
    await waitFor(() => expect(lines()).toEqual([["TEE-M", "2"]]));
    expect(screen.getByTestId("sale-notice")).toHaveTextContent("One more Linen Tee · M (TEE-M)");
    expect(screen.getByTestId("sale-total")).toHaveTextContent("50");
  });

  it("says so when a scanned barcode is unknown, adds nothing and keeps the focus", async () => {
    const { user, search } = renderSale();
    await user.type(search, "5901234123457{Enter}");
    await waitFor(() => expect(screen.getByTestId("sale-notice")).toHaveTextContent("No product has the barcode 5901234123457"));
    expect(lines()).toEqual([]);
    expect(search).toHaveFocus();
    expect(search).toHaveValue("");
  });

  it("typed text lists matches to pick with the arrow keys and Enter; Escape clears", async () => {
    const { user, search } = renderSale({ step: 150 });
    await user.type(search, "linen");
    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual([expect.stringContaining("Linen Tee"), expect.stringContaining("Linen Mug")]);
    await user.keyboard("{ArrowDown}{Enter}");
    await waitFor(() => expect(lines()).toEqual([["MUG-1", "1"]]));
    await user.type(search, "linen");
    await screen.findAllByRole("option");
    await user.keyboard("{Escape}");
    expect(search).toHaveValue("");
    expect(screen.queryAllByRole("option")).toEqual([]);
  });

  it("a SKU typed by hand and Enter adds it at once", async () => {
    const { user, search } = renderSale({ step: 150 });
    await user.type(search, "MUG-1{Enter}");
    await waitFor(() => expect(lines()).toEqual([["MUG-1", "1"]]));
  });

  it("edits and removes lines from the keyboard, back to the search box", async () => {
    const { user, search } = renderSale();
    await user.type(search, "4006381333931{Enter}");
    const qty = await screen.findByRole("textbox", { name: "Quantity of TEE-M" });
    await user.tab();
    expect(qty).toHaveFocus();
    await user.clear(qty);
    await user.type(qty, "3{Enter}");
    expect(search).toHaveFocus();
    expect(lines()).toEqual([["TEE-M", "3"]]);
    expect(screen.getByTestId("sale-available")).toHaveTextContent("2 available, 3 wanted");
    await user.click(screen.getByRole("button", { name: "Remove TEE-M" }));
    expect(lines()).toEqual([]);
    expect(search).toHaveFocus();
  });

  it("Paid creates and pays the order, then starts a new sale", async () => {
    const checkout = vi.fn<CheckoutFn>(async (o) => ({ order: order(o.items), paid: true, paymentError: null }));
    const { user, search } = renderSale({ checkout });
    await user.type(search, "4006381333931{Enter}");
    await user.type(search, "4006381333931{Enter}");
    await waitFor(() => expect(lines()).toEqual([["TEE-M", "2"]]));
    await user.click(screen.getByRole("button", { name: "Paid" }));
    await waitFor(() => expect(screen.getByTestId("sale-notice")).toHaveTextContent(/^Paid: .*50/));
    expect(checkout).toHaveBeenCalledWith({ items: [{ variant_id: "v-tee", quantity: 2 }], expires_in_secs: null }, false);
    expect(lines()).toEqual([]);
  });

  it("Hold asks for 15 minutes; a refusal for short stock marks the line by the core's figures", async () => {
    const checkout = vi.fn<CheckoutFn>(async () => {
      throw new CommandError({ code: "insufficient_stock", message: "only 1 left", details: { variant_id: "v-tee", requested: 2, available: 1 } });
    });
    const { user, search } = renderSale({ checkout });
    await user.type(search, "4006381333931{Enter}");
    await user.type(search, "4006381333931{Enter}");
    await waitFor(() => expect(lines()).toEqual([["TEE-M", "2"]]));
    await user.click(screen.getByRole("button", { name: "Hold for 15 min" }));
    await waitFor(() => expect(screen.getByTestId("sale-notice")).toHaveTextContent("Not enough stock of Linen Tee · M (TEE-M): 2 wanted, 1 available"));
    expect(checkout).toHaveBeenCalledWith({ items: [{ variant_id: "v-tee", quantity: 2 }], expires_in_secs: 900 }, true);
    expect(lines()).toEqual([["TEE-M", "2"]]);
    expect(screen.getByTestId("sale-available")).toHaveTextContent("1 available, 2 wanted");
  });
});
