// Pure parsing of the stock action forms (receive, adjust, count) into command arguments, with
// messages keyed by the same field names the core uses in `details.errors`.

export type StockActionKind = "receive" | "adjust" | "count";

export type StockActionForm = { amount: string; reason: string };

export type StockActionArgs =
  | { kind: "receive"; quantity: number; reason: string | null }
  | { kind: "adjust"; delta: number; reason: string }
  | { kind: "count"; counted: number };

/** The core's field name for the amount of each action. */
export const AMOUNT_FIELD: Record<StockActionKind, "quantity" | "delta" | "counted"> = {
  receive: "quantity",
  adjust: "delta",
  count: "counted",
};

function wholeNumber(s: string): number | null {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Checks what can be checked before sending (a whole number, the sign, a reason for an
 * adjustment); ranges are left to the core, whose messages show the same way.
 */
export function parseStockAction(
  kind: StockActionKind,
  form: StockActionForm,
): { ok: true; args: StockActionArgs } | { ok: false; errors: Record<string, string> } {
  const field = AMOUNT_FIELD[kind];
  const n = wholeNumber(form.amount);
  const reason = form.reason.trim();
  const errors: Record<string, string> = {};
  if (n === null) errors[field] = "enter a whole number";
  else if (kind === "receive" && n <= 0) errors[field] = "must be at least 1";
  else if (kind === "adjust" && n === 0) errors[field] = "must not be zero (use + or − for the direction)";
  else if (kind === "count" && n < 0) errors[field] = "must be 0 or more";
  if (kind === "adjust" && reason === "") errors.reason = "say why the stock changes";
  if (n === null || Object.keys(errors).length > 0) return { ok: false, errors };
  switch (kind) {
    case "receive":
      return { ok: true, args: { kind, quantity: n, reason: reason === "" ? null : reason } };
    case "adjust":
      return { ok: true, args: { kind, delta: n, reason } };
    case "count":
      return { ok: true, args: { kind, counted: n } };
  }
}
