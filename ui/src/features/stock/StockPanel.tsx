import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { CommandKind, Permission, Product, Variant } from "../../bindings";
import { apiError, byField, describeError, explain } from "../../lib/api";
import { writes } from "../../lib/commands";
import { dateTime, timeAgo } from "../../lib/format";
import { keys, useMovements, useStockLevel } from "../../lib/queries";
import { ErrorState, Spinner } from "../../components/States";
import { useToast } from "../../components/Toasts";
import { GatedButton, PermHint } from "../staff/Gated";
import { usePermissions } from "../staff/permissions";
import { AMOUNT_FIELD, parseStockAction, type StockActionArgs, type StockActionKind } from "./actions";

/** Per variant: on hand, held by pending orders, available; and the movement ledger. */
export function StockPanel({ product }: { product: Product }) {
  const [open, setOpen] = useState<string | null>(product.variants[0]?.id ?? null);
  if (product.variants.length === 0) return <div className="muted empty-inline">No variants, so no stock.</div>;
  return (
    <div className="section" data-testid="stock">
      <table className="grid-table stock-table">
        <thead>
          <tr>
            <th>SKU</th>
            <th className="num">On hand</th>
            <th className="num">Reserved</th>
            <th className="num">Available</th>
            <th aria-label="Ledger" />
          </tr>
        </thead>
        <tbody>
          {product.variants.map((v) => (
            <LevelRow key={v.id} variant={v} open={open === v.id} onOpen={() => setOpen(open === v.id ? null : v.id)} />
          ))}
        </tbody>
      </table>
      {open && <StockActions key={open} productId={product.id} variantId={open} sku={product.variants.find((v) => v.id === open)?.sku ?? ""} />}
      {open && <Ledger variantId={open} sku={product.variants.find((v) => v.id === open)?.sku ?? ""} />}
    </div>
  );
}

function LevelRow({ variant, open, onOpen }: { variant: Variant; open: boolean; onOpen: () => void }) {
  const level = useStockLevel(variant.id);
  const l = level.data;
  return (
    <tr className={open ? "row-open" : ""}>
      <td className="mono">{variant.sku}</td>
      <td className="num">{l?.on_hand ?? "…"}</td>
      <td className="num">{l ? l.reserved : "…"}</td>
      <td className={`num ${l && l.available <= 0 ? "low" : ""}`}>
        {l ? l.available : level.isError ? "?" : "…"}
        {l && l.short > 0 && <span className="badge badge-dirty" title="Held beyond what is on hand">{l.short} short</span>}
      </td>
      <td className="actions">
        <button className="btn btn-small" onClick={onOpen} aria-expanded={open}>
          {open ? "Hide ledger" : "Ledger"}
        </button>
      </td>
    </tr>
  );
}

function Ledger({ variantId, sku }: { variantId: string; sku: string }) {
  const moves = useMovements(variantId);
  if (moves.isPending) return <Spinner label="Loading the ledger…" />;
  if (moves.isError) return <ErrorState title="Could not load the ledger" message={describeError(moves.error)} />;
  return (
    <div className="ledger">
      <h3 className="ledger-title">Movements of {sku}</h3>
      <table className="grid-table">
        <thead>
          <tr>
            <th>When</th>
            <th>Kind</th>
            <th className="num">Change</th>
            <th className="num">On hand after</th>
            <th>Who</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {[...moves.data].reverse().map((m) => (
            <tr key={m.id}>
              <td title={dateTime(m.at)}>{timeAgo(m.at)}</td>
              <td className="cap">{m.kind}</td>
              <td className={`num ${m.quantity < 0 ? "neg" : "pos"}`}>{m.quantity > 0 ? `+${m.quantity}` : m.quantity}</td>
              <td className="num">{m.on_hand_after}</td>
              <td>{m.actor}</td>
              <td className="muted">{m.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const ACTIONS: { kind: StockActionKind; label: string; amount: string; hint: string; permission: Permission }[] = [
  { kind: "receive", label: "Receive", amount: "Quantity received", hint: "e.g. 12", permission: "receive_stock" },
  { kind: "adjust", label: "Adjust", amount: "Change (+/−)", hint: "e.g. -2", permission: "adjust_stock" },
  { kind: "count", label: "Count", amount: "Counted on hand", hint: "e.g. 40", permission: "count_stock" },
];

type StockCommand = Extract<CommandKind, { type: "receive_stock" | "adjust_stock" | "count_stock" }>;

function stockCommand(variantId: string, a: StockActionArgs): StockCommand {
  switch (a.kind) {
    case "receive":
      return { type: "receive_stock", variant_id: variantId, quantity: a.quantity, reason: a.reason };
    case "adjust":
      return { type: "adjust_stock", variant_id: variantId, delta: a.delta, reason: a.reason };
    case "count":
      return { type: "count_stock", variant_id: variantId, counted: a.counted, expected: null };
  }
}

/** Receive, adjust (delta + reason) or count the stock of one variant. */
function StockActions({ productId, variantId, sku }: { productId: string; variantId: string; sku: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const perms = usePermissions();
  const [kind, setKind] = useState<StockActionKind>(() => ACTIONS.find((a) => perms.can(a.permission))?.kind ?? "receive");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const action = ACTIONS.find((a) => a.kind === kind)!;
  const amountField = AMOUNT_FIELD[kind];

  const submit = async () => {
    const parsed = parseStockAction(kind, { amount, reason });
    setFailure(null);
    if (!parsed.ok) return setErrors(parsed.errors);
    setErrors({});
    setBusy(true);
    try {
      // The same amount sent again after an unanswered attempt is a retry (same op id).
      const change = await writes.apply(stockCommand(variantId, parsed.args));
      qc.setQueryData(keys.stockLevel(variantId), change.level);
      void qc.invalidateQueries({ queryKey: keys.stock });
      void qc.invalidateQueries({ queryKey: keys.products });
      void qc.invalidateQueries({ queryKey: keys.product(productId) });
      setAmount("");
      setReason("");
      const q = change.movement.quantity;
      toast("success", `${action.label}: ${sku}`, `${q > 0 ? `+${q}` : q} → ${change.level.on_hand} on hand`);
    } catch (e) {
      const api = apiError(e);
      switch (api?.code) {
        case "validation": {
          const fe = byField(api.details.errors);
          setErrors(fe);
          const other = Object.entries(fe).filter(([f]) => f !== amountField && f !== "reason");
          if (other.length > 0) setFailure(other.map(([f, r]) => `${f}: ${r}`).join("; "));
          break;
        }
        case "insufficient_stock":
          // An adjustment may not take away units that pending orders hold.
          setErrors({ [amountField]: `only ${api.details.available} can be taken away (${api.details.requested} asked)` });
          break;
        default:
          setFailure(explain(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="stock-action"
      data-testid="stock-actions"
      aria-label={`Stock actions for ${sku}`}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3 className="ledger-title field-wide">Change the stock of {sku}</h3>
      <div className="btn-group" role="radiogroup" aria-label="Action">
        {ACTIONS.map((a) => (
          <GatedButton
            key={a.kind}
            permission={a.permission}
            type="button"
            role="radio"
            aria-checked={kind === a.kind}
            className={`btn btn-small ${kind === a.kind ? "btn-primary" : ""}`}
            data-testid={`stock-action-${a.kind}`}
            onClick={() => {
              setKind(a.kind);
              setErrors({});
              setFailure(null);
            }}
          >
            {a.label}
          </GatedButton>
        ))}
      </div>
      <label className="field">
        <span className="label">{action.amount}</span>
        <input
          className={`input num ${errors[amountField] ? "invalid" : ""}`}
          inputMode="numeric"
          placeholder={action.hint}
          data-testid="stock-amount"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
        />
        {errors[amountField] && <div className="field-error" role="alert">{errors[amountField]}</div>}
      </label>
      {kind !== "count" && (
        <label className="field field-wide">
          <span className="label">{kind === "adjust" ? "Reason" : "Reason (optional)"}</span>
          <input
            className={`input ${errors.reason ? "invalid" : ""}`}
            placeholder={kind === "adjust" ? "Why the stock changes (damaged, found, …)" : "Delivery note, supplier…"}
            data-testid="stock-reason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          {errors.reason && <div className="field-error" role="alert">{errors.reason}</div>}
        </label>
      )}
      <GatedButton permission={action.permission} type="submit" className="btn btn-primary" disabled={busy} data-testid="stock-submit">
        {busy ? "Saving…" : action.label}
      </GatedButton>
      <div className="perm-notes field-wide">
        <PermHint permission="adjust_stock" />
      </div>
      {failure && (
        <div className="banner banner-error" role="alert">
          {failure}
        </div>
      )}
    </form>
  );
}
