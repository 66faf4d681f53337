// What the orders view says when paying, extending or cancelling was refused: per error code,
// from that code's typed details.
import { apiError, describeError, explain } from "../../lib/api";

/** What to tell the person when paying, extending or cancelling an order was refused. */
export function refusal(e: unknown): [title: string, body: string] {
  const api = apiError(e);
  switch (api?.code) {
    case "reservation_expired":
      return ["Too late: the hold expired and the stock is gone", describeError(e)];
    case "insufficient_stock":
      return [
        "Not enough stock for this order any more",
        `${api.details.requested} wanted, ${api.details.available} available.`,
      ];
    case "invalid_state":
      return ["The order changed meanwhile", `It is ${api.details.state} now.`];
    default:
      return ["Could not update the order", explain(e)];
  }
}
