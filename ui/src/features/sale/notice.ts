// What the sale view says: after a look-up that found nothing, and when the core refused the
// sale (by its error code, with that code's details).
import type { VariantForSale } from "../../bindings";
import { errorOf, explain } from "../../lib/api";
import type { SaleLine } from "./sale";

export type Notice = { tone: "success" | "info" | "error"; text: string };

/** The line text of a variant: "Linen Tee · M / Navy". */
export function variantName(v: VariantForSale): string {
  return v.variant_label ? `${v.product_name} · ${v.variant_label}` : v.product_name;
}

/** Nothing was found for what was scanned or typed. */
export function notFound(query: string, scanned: boolean): Notice {
  const digits = /^[\d ]+$/.test(query);
  return {
    tone: "error",
    text: scanned || digits ? `No product has the barcode ${query}. Nothing was added.` : `Nothing matches “${query}”.`,
  };
}

/** Why the sale was refused, and which line the core found short (if that was why). */
export function refusalNotice(e: unknown, lines: SaleLine[]): { notice: Notice; short: { variantId: string; requested: number; available: number } | null } {
  const stock = errorOf(e, "insufficient_stock");
  if (stock) {
    const { variant_id, requested, available } = stock.details;
    const line = lines.find((l) => l.variant.variant_id === variant_id);
    const name = line ? `${variantName(line.variant)} (${line.variant.sku})` : "one line";
    return {
      notice: { tone: "error", text: `Not enough stock of ${name}: ${requested} wanted, ${available} available. Nothing was sold.` },
      short: { variantId: variant_id, requested, available },
    };
  }
  return { notice: { tone: "error", text: `Not sold: ${explain(e)}` }, short: null };
}
