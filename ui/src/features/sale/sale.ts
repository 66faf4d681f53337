// The sale being rung up: its lines and what the view says about them. Pure functions only (the
// view and the tests use them without React). Nothing here decides whether a sale may go ahead:
// availability is the core's figure, shown; the core refuses a short line when the order is
// made, and `refused` marks that line with the core's figures.
import type { Money, NewOrder, VariantForSale } from "../../bindings";
import { parseCount } from "../../lib/format";

export type SaleLine = {
  variant: VariantForSale;
  /** As typed ("2"). */
  quantity: string;
  /** The core refused this line: so many were wanted, so many were there. */
  short: { requested: number; available: number } | null;
};

export type SaleState = { lines: SaleLine[] };

export type SaleAction =
  /** A variant scanned or picked: a new line, or one more of a line there is. */
  | { type: "add"; variant: VariantForSale }
  | { type: "quantity"; variantId: string; quantity: string }
  | { type: "remove"; variantId: string }
  /** The core said a line is short (`insufficient_stock`'s details). */
  | { type: "refused"; variantId: string; requested: number; available: number }
  /** Paid, held or given up: a new, empty sale. */
  | { type: "clear" };

export const emptySale: SaleState = { lines: [] };

export function saleReducer(state: SaleState, action: SaleAction): SaleState {
  switch (action.type) {
    case "add": {
      const id = action.variant.variant_id;
      const there = state.lines.find((l) => l.variant.variant_id === id);
      if (!there) return { lines: [...state.lines, { variant: action.variant, quantity: "1", short: null }] };
      const now = parseCount(there.quantity);
      // Fresh figures from the look-up replace the line's; a quantity being typed is kept as typed.
      return {
        lines: state.lines.map((l) =>
          l === there ? { variant: action.variant, quantity: now === null ? l.quantity : String(now + 1), short: null } : l,
        ),
      };
    }
    case "quantity":
      return {
        lines: state.lines.map((l) => (l.variant.variant_id === action.variantId ? { ...l, quantity: action.quantity, short: null } : l)),
      };
    case "remove":
      return { lines: state.lines.filter((l) => l.variant.variant_id !== action.variantId) };
    case "refused":
      return {
        lines: state.lines.map((l) =>
          l.variant.variant_id === action.variantId
            ? { ...l, variant: { ...l.variant, available: action.available }, short: { requested: action.requested, available: action.available } }
            : l,
        ),
      };
    case "clear":
      return emptySale;
  }
}

/** The quantity of a line, or null while what is typed is not a whole number. */
export function quantityOf(line: SaleLine): number | null {
  return parseCount(line.quantity);
}

/** Whether the line wants more than the core last said was available (shown, not enforced). */
export function wantsMoreThanAvailable(line: SaleLine): boolean {
  const q = quantityOf(line);
  return q !== null && q > line.variant.available;
}

/** The sum of the lines per currency, from the core's prices; null while a quantity is not a number. */
export function totals(state: SaleState): Money[] | null {
  const sums = new Map<string, number>();
  for (const l of state.lines) {
    const q = quantityOf(l);
    if (q === null) return null;
    sums.set(l.variant.currency, (sums.get(l.variant.currency) ?? 0) + q * l.variant.price_minor);
  }
  return [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount_minor]) => ({ currency, amount_minor }));
}

/** How long "Hold for 15 min" holds the stock. */
export const HOLD_SECS = 15 * 60;

/**
 * The order the sale becomes, or which lines' quantities cannot be read yet. `hold` asks for the
 * 15-minute hold; otherwise the order is paid at once (the core's default window covers that).
 */
export function orderOf(state: SaleState, hold: boolean): { order: NewOrder } | { unreadable: string[] } {
  const unreadable = state.lines.filter((l) => quantityOf(l) === null).map((l) => l.variant.variant_id);
  if (unreadable.length) return { unreadable };
  return {
    order: {
      items: state.lines.map((l) => ({ variant_id: l.variant.variant_id, quantity: quantityOf(l)! })),
      expires_in_secs: hold ? HOLD_SECS : null,
    },
  };
}
