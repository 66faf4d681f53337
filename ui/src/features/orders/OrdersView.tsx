import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { Order, OrderStatus } from "../../bindings";
import { describeError } from "../../lib/api";
import { writes } from "../../lib/commands";
import { dateTime, formatMoney, timeAgo } from "../../lib/format";
import { keys, useOrders } from "../../lib/queries";
import { Badge, EmptyState, ErrorState, Spinner } from "../../components/States";
import { useToast } from "../../components/Toasts";
import { GatedButton, PermHint } from "../staff/Gated";
import { countdown } from "./countdown";
import { refusal } from "./refusal";

const EXTEND_MINUTES = 15;

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** Orders: pending ones with a live countdown to their payment deadline; pay, extend, cancel. */
export function OrdersView() {
  const [status, setStatus] = useState<OrderStatus | null>("pending");
  const orders = useOrders(status);
  const now = useNow(1000);
  const qc = useQueryClient();
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);

  const act = async (order: Order, what: "pay" | "extend" | "cancel") => {
    setBusy(order.id);
    try {
      if (what === "pay") {
        const out = await writes.apply({ type: "pay_order", order_id: order.id });
        toast("success", "Payment confirmed", out.hold === "re_reserved" ? "The window had passed; the stock was still there and is now sold." : undefined);
      } else if (what === "extend") {
        await writes.apply({ type: "extend_order", order_id: order.id, by_secs: EXTEND_MINUTES * 60 });
        toast("success", `${EXTEND_MINUTES} more minutes to pay`);
      } else {
        await writes.apply({ type: "cancel_order", order_id: order.id });
        toast("info", "Order cancelled", "Its stock is available again.");
      }
    } catch (e) {
      const [title, body] = refusal(e);
      toast("error", title, body);
    } finally {
      setBusy(null);
      void qc.invalidateQueries({ queryKey: keys.orders });
      void qc.invalidateQueries({ queryKey: keys.stock });
      void qc.invalidateQueries({ queryKey: keys.products });
    }
  };

  return (
    <section className="pane orders-pane" aria-label="Orders" data-testid="orders">
      <div className="toolbar toolbar-filters">
        <div className="segmented" role="radiogroup" aria-label="Order status">
          {([["pending", "Pending"], ["paid", "Paid"], ["expired", "Expired"], ["cancelled", "Cancelled"], [null, "All"]] as const).map(
            ([s, label]) => (
              <button key={label} role="radio" aria-checked={status === s} className={`seg ${status === s ? "seg-on" : ""}`} onClick={() => setStatus(s)}>
                {label}
              </button>
            ),
          )}
        </div>
        <PermHint permission="sell" />
        <span className="muted count">{orders.data ? `${orders.data.length} order${orders.data.length === 1 ? "" : "s"}` : ""}</span>
      </div>
      {orders.isPending ? (
        <Spinner label="Loading orders…" />
      ) : orders.isError ? (
        <ErrorState title="Could not load orders" message={describeError(orders.error)} onRetry={() => orders.refetch()} />
      ) : orders.data.length === 0 ? (
        <EmptyState title={status === "pending" ? "No orders waiting for payment" : "No orders"}>
          Orders are taken at the till or with <code>stockdesk order create</code>.
        </EmptyState>
      ) : (
        <div className="orders-list">
          {orders.data.map((o) => {
            const left = countdown(o.payment_expires_at, now);
            const pending = o.status === "pending";
            return (
              <article key={o.id} className="order" data-testid="order">
                <div className="order-head">
                  <Badge tone={o.status === "paid" ? "published" : pending ? "draft" : "archived"}>{o.status}</Badge>
                  <span className="muted" title={dateTime(o.created_at)}>
                    {timeAgo(o.created_at)} by {o.created_by}
                  </span>
                  <span className="spacer" />
                  {pending && (
                    <span className={`countdown ${left.urgent ? "countdown-urgent" : ""}`} title={`Pay by ${dateTime(o.payment_expires_at)}`}>
                      {left.over ? "Payment window passed" : `${left.text} left to pay`}
                    </span>
                  )}
                  <span className="order-total">{o.totals.map((t) => formatMoney(t.amount_minor, t.currency)).join(" + ")}</span>
                </div>
                <ul className="order-items">
                  {o.items.map((it) => (
                    <li key={it.id}>
                      <span className="qty">{it.quantity} ×</span> {it.product_name} <span className="muted mono">{it.sku}</span>
                      <span className="spacer" />
                      <span className="muted">{formatMoney(it.unit_price_minor * it.quantity, it.currency)}</span>
                    </li>
                  ))}
                </ul>
                {pending && (
                  <div className="order-actions">
                    <GatedButton permission="sell" className="btn btn-primary btn-small" disabled={busy === o.id} onClick={() => void act(o, "pay")}>
                      Confirm payment
                    </GatedButton>
                    <GatedButton permission="sell" className="btn btn-small" disabled={busy === o.id} onClick={() => void act(o, "extend")}>
                      +{EXTEND_MINUTES} min
                    </GatedButton>
                    <GatedButton permission="sell" className="btn btn-small" disabled={busy === o.id} onClick={() => void act(o, "cancel")}>
                      Cancel order
                    </GatedButton>
                  </div>
                )}
              </article>
            );
          })}
        </div>
      )}
    </section>
  );
}
