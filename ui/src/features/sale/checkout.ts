// Ringing a sale up through the existing commands: "Paid" creates the order and confirms its
// payment; "Hold" creates it with a 15-minute hold. The core decides both (stock, permissions);
// what it refuses comes back as its error, by code.
import type { NewOrder, Order } from "../../bindings";
import { writes } from "../../lib/commands";

export type Checkout = {
  order: Order;
  /** Paid now (or held, when the sale was held). */
  paid: boolean;
  /** The order was made (its stock is held) but confirming the payment failed with this. */
  paymentError: unknown;
};

/** Creates `order`, then (unless `hold`) pays it. Throws only when the order was not made. */
export type CheckoutFn = (order: NewOrder, hold: boolean) => Promise<Checkout>;

export const checkout: CheckoutFn = async (order, hold) => {
  const made = await writes.apply({ type: "create_order", order });
  if (hold) return { order: made, paid: false, paymentError: null };
  try {
    await writes.apply({ type: "pay_order", order_id: made.id });
    return { order: made, paid: true, paymentError: null };
  } catch (e) {
    return { order: made, paid: false, paymentError: e };
  }
};
