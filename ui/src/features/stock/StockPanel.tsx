import { useState } from "react";
import type { Product, Variant } from "../../bindings";
import { describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { useMovements, useStockLevel } from "../../lib/queries";
import { ErrorState, Spinner } from "../../components/States";

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
