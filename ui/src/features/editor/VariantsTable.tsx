import type { ReactNode } from "react";
import type { Category, Permission } from "../../bindings";
import { GatedButton, PermHint } from "../staff/Gated";
import { usePermissions } from "../staff/permissions";
import { newVariant, type Draft, type VariantDraft } from "./draft";

type Props = {
  draft: Draft;
  category: Category | undefined;
  errors: Record<string, string>;
  onChange: (d: Draft) => void;
};

/** Variants: SKU, barcode, price, currency, stock on hand and the category's attributes. */
export function VariantsTable({ draft, category, errors, onChange }: Props) {
  const perms = usePermissions();
  // A new row is set up whole by whoever may add variants; a saved one field by field.
  const lockedFor = (v: VariantDraft, p: Permission) => perms.why(v.isNew ? "edit_catalog" : p);
  const attrNames = [
    ...new Set([...(category?.attributes.map((a) => a.name) ?? []), ...draft.variants.flatMap((v) => Object.keys(v.attributes))]),
  ];
  const update = (id: string, patch: Partial<VariantDraft>) =>
    onChange({ ...draft, variants: draft.variants.map((v) => (v.id === id ? { ...v, ...patch } : v)) });
  const remove = (v: VariantDraft) =>
    onChange({
      ...draft,
      variants: draft.variants.filter((x) => x.id !== v.id),
      deletedVariants: v.isNew ? draft.deletedVariants : [...draft.deletedVariants, v.id],
    });
  const add = () =>
    onChange({
      ...draft,
      variants: [...draft.variants, newVariant(crypto.randomUUID(), draft.variants[0]?.currency ?? "EUR")],
    });
  const err = (v: VariantDraft, f: string) => errors[`variants.${v.id}.${f}`];
  const rowErr = (v: VariantDraft) => errors[`variants.${v.id}`] ?? errors[`variants.${v.id}.attributes`];

  return (
    <div className="section">
      <div className="section-head">
        <h3>Variants</h3>
        <span className="muted">{draft.variants.length}</span>
        <span className="spacer" />
        <GatedButton permission="edit_catalog" className="btn btn-small" onClick={add} data-testid="add-variant">
          Add variant
        </GatedButton>
      </div>
      <div className="perm-notes">
        <PermHint permission="edit_prices" />
        <PermHint permission="adjust_stock" />
        <PermHint permission="delete" />
      </div>
      {draft.variants.length === 0 ? (
        <div className="muted empty-inline">No variants. A product needs at least one to be sold.</div>
      ) : (
        <div className="table-wrap">
        <table className="grid-table" data-testid="variants">
          <thead>
            <tr>
              <th>SKU</th>
              <th>Barcode</th>
              <th className="num">Price</th>
              <th>Cur.</th>
              <th className="num">On hand</th>
              {attrNames.map((a) => (
                <th key={a}>{a}</th>
              ))}
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {draft.variants.map((v) => (
              <tr key={v.id} className={v.isNew ? "new-row" : ""}>
                <Cell
                  label="SKU"
                  kind=""
                  value={v.sku}
                  locked={lockedFor(v, "edit_catalog")}
                  error={err(v, "sku")}
                  onChange={(sku) => update(v.id, { sku })}
                >
                  {rowErr(v) && <div className="field-error">{rowErr(v)}</div>}
                </Cell>
                <Cell
                  label="Barcode"
                  kind="barcode"
                  inputMode="numeric"
                  value={v.barcode}
                  locked={lockedFor(v, "edit_catalog")}
                  error={err(v, "barcode")}
                  onChange={(barcode) => update(v.id, { barcode })}
                />
                <Cell
                  label="Price"
                  kind="num"
                  inputMode="decimal"
                  value={v.price}
                  locked={lockedFor(v, "edit_prices")}
                  error={err(v, "price_minor")}
                  onChange={(price) => update(v.id, { price })}
                />
                <Cell
                  label="Currency"
                  kind="cur"
                  maxLength={3}
                  value={v.currency}
                  locked={lockedFor(v, "edit_prices")}
                  error={err(v, "currency")}
                  onChange={(currency) => update(v.id, { currency: currency.toUpperCase() })}
                />
                <Cell
                  label="Stock on hand"
                  kind="num"
                  inputMode="numeric"
                  value={v.stock}
                  locked={lockedFor(v, "adjust_stock")}
                  error={err(v, "stock_on_hand")}
                  onChange={(stock) => update(v.id, { stock })}
                />
                {attrNames.map((a) => {
                  const allowed = category?.attributes.find((x) => x.name === a)?.values;
                  const value = v.attributes[a] ?? "";
                  const locked = lockedFor(v, "edit_catalog");
                  return (
                    <td key={a}>
                      {allowed ? (
                        <select
                          className="input cell"
                          aria-label={a}
                          value={value}
                          disabled={locked !== null}
                          title={locked ?? undefined}
                          onChange={(e) => update(v.id, { attributes: { ...v.attributes, [a]: e.target.value } })}
                        >
                          <option value="">—</option>
                          {allowed.map((x) => (
                            <option key={x}>{x}</option>
                          ))}
                          {value && !allowed.includes(value) && <option>{value}</option>}
                        </select>
                      ) : (
                        <input
                          className="input cell"
                          aria-label={a}
                          value={value}
                          readOnly={locked !== null}
                          title={locked ?? undefined}
                          onChange={(e) => update(v.id, { attributes: { ...v.attributes, [a]: e.target.value } })}
                        />
                      )}
                    </td>
                  );
                })}
                <td className="actions">
                  <GatedButton
                    permission={v.isNew ? "edit_catalog" : "delete"}
                    className="btn btn-icon"
                    aria-label={`Remove variant ${v.sku}`}
                    title="Remove variant"
                    onClick={() => remove(v)}
                  >
                    ✕
                  </GatedButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      {draft.deletedVariants.length > 0 && (
        <div className="muted note">
          {draft.deletedVariants.length} variant{draft.deletedVariants.length > 1 ? "s" : ""} will be removed when you save.
        </div>
      )}
    </div>
  );
}

type CellProps = {
  label: string;
  /** Extra class for the column's width/alignment ("num", "cur" or none). */
  kind: string;
  value: string;
  /** Why this person may not change it (then it is read-only), or null. */
  locked: string | null;
  error: string | undefined;
  onChange: (value: string) => void;
  inputMode?: "decimal" | "numeric";
  maxLength?: number;
  children?: ReactNode;
};

/** One editable cell of a variant row, with the core's message for that field under it. */
function Cell({ label, kind, value, locked, error, onChange, inputMode, maxLength, children }: CellProps) {
  return (
    <td>
      <input
        className={`input cell ${kind} ${error ? "invalid" : ""}`}
        aria-label={label}
        readOnly={locked !== null}
        title={locked ?? undefined}
        inputMode={inputMode}
        maxLength={maxLength}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && <div className="field-error">{error}</div>}
      {children}
    </td>
  );
}
