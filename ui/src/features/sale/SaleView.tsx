import { useEffect, useReducer, useRef, useState, type KeyboardEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type VariantForSale } from "../../bindings";
import { call, describeError } from "../../lib/api";
import { formatMoney } from "../../lib/format";
import { keys } from "../../lib/queries";
import { GatedButton, PermHint } from "../staff/Gated";
import { useTillHolds } from "./allotment";
import { checkout as checkoutViaCommands, type CheckoutFn } from "./checkout";
import { notFound, refusalNotice, variantName, type Notice } from "./notice";
import { emptySale, orderOf, quantityOf, saleReducer, totals, wantsMoreThanAvailable } from "./sale";
import { KeystrokeTimer } from "./scanner";

/** The core's look-up (`find_for_sale`). */
export type FindFn = (query: string) => Promise<VariantForSale[]>;
const findViaCommands: FindFn = (q) => call(commands.findForSale(q));

/** How long typing rests before the list is looked up (a scan never waits for it). */
const SEARCH_DELAY_MS = 150;

type Props = {
  /** Whether the view is shown: it takes the focus then, for the scanner. */
  active: boolean;
  find?: FindFn;
  checkout?: CheckoutFn;
  /** Milliseconds for keystroke timing (tests pass their own clock). */
  now?: () => number;
};

/**
 * A sale at the counter: scan or search, set quantities, then "Paid" or "Hold for 15 min". A
 * barcode scanner types into the search box (a keyboard wedge): a fast burst ending in Enter is
 * looked up at once, and an exact barcode or SKU adds its variant (one more if it is there).
 * Everything works from the keyboard: ↑/↓ and Enter pick from the list, Escape clears it, Enter
 * or Escape in a quantity goes back to the search box.
 */
export function SaleView({ active, find = findViaCommands, checkout = checkoutViaCommands, now = () => performance.now() }: Props) {
  const [sale, dispatch] = useReducer(saleReducer, emptySale);
  const [query, setQuery] = useState("");
  const [searched, setSearched] = useState("");
  const [highlight, setHighlight] = useState(0);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [busy, setBusy] = useState(false);
  const search = useRef<HTMLInputElement>(null);
  const timer = useRef(new KeystrokeTimer());
  const qc = useQueryClient();
  const tillHolds = useTillHolds();

  useEffect(() => {
    if (active) search.current?.focus();
  }, [active]);

  // The list follows typing once it rests; a scan clears the box before that.
  useEffect(() => {
    const t = setTimeout(() => setSearched(query.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(t);
  }, [query]);
  const results = useQuery({
    queryKey: [...keys.forSale, searched],
    queryFn: () => find(searched),
    enabled: searched !== "",
    staleTime: 2_000,
  });
  const list = searched !== "" && query.trim() !== "" ? (results.data ?? []) : [];
  const open = list.length > 0;

  const backToSearch = () => search.current?.focus();
  const clearQuery = () => {
    setQuery("");
    setSearched("");
    setHighlight(0);
    timer.current.clear();
  };
  const add = (v: VariantForSale) => {
    const there = sale.lines.find((l) => l.variant.variant_id === v.variant_id);
    dispatch({ type: "add", variant: v });
    setNotice({ tone: "success", text: there ? `One more ${variantName(v)} (${v.sku})` : `Added ${variantName(v)} (${v.sku})` });
    clearQuery();
    backToSearch();
  };

  /** Looks `text` up now: an exact barcode or SKU is added; otherwise the list shows, or why not. */
  const lookUp = async (text: string, scanned: boolean) => {
    clearQuery();
    let found: VariantForSale[];
    try {
      found = await find(text);
    } catch (e) {
      setNotice({ tone: "error", text: `Could not look “${text}” up: ${describeError(e)}` });
      return;
    }
    const exact = found.length === 1 && found[0].matched !== "text" ? found[0] : null;
    if (exact) add(exact);
    else if (scanned || found.length === 0) setNotice(notFound(text, scanned));
    else {
      // Typed and Enter before the list came: show it to pick from.
      setQuery(text);
      setSearched(text);
      setNotice(null);
    }
  };

  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    timer.current.key(e.key, now());
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!open) return;
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      setHighlight((h) => Math.min(list.length - 1, Math.max(0, h + step)));
    } else if (e.key === "Escape") {
      if (query !== "") {
        e.preventDefault();
        clearQuery();
      }
    } else if (e.key === "Enter") {
      e.preventDefault();
      const text = query.trim();
      if (text === "") return;
      const scanned = timer.current.isScan(query, now());
      if (!scanned && open && searched === text) add(list[Math.min(highlight, list.length - 1)]);
      else void lookUp(text, scanned);
    }
  };

  const ringUp = async (hold: boolean) => {
    const built = orderOf(sale, hold);
    if ("unreadable" in built) {
      setNotice({ tone: "error", text: "Enter each quantity as a whole number first." });
      return;
    }
    setBusy(true);
    try {
      const done = await checkout(built.order, hold);
      dispatch({ type: "clear" });
      const total = done.order.totals.map((t) => formatMoney(t.amount_minor, t.currency)).join(" + ");
      if (hold) setNotice({ tone: "success", text: `Held for 15 minutes: ${total}. Take the payment in Orders.` });
      else if (done.paid) setNotice({ tone: "success", text: `Paid: ${total}. Ready for the next sale.` });
      else
        setNotice({
          tone: "error",
          text: `The order is taken and its stock held for 15 minutes, but the payment was not recorded (${describeError(done.paymentError)}). Confirm it in Orders.`,
        });
    } catch (e) {
      const refused = refusalNotice(e, sale.lines);
      if (refused.short) dispatch({ type: "refused", ...refused.short });
      setNotice(refused.notice);
    } finally {
      setBusy(false);
      void qc.invalidateQueries({ queryKey: keys.orders });
      void qc.invalidateQueries({ queryKey: keys.stock });
      void qc.invalidateQueries({ queryKey: keys.products });
      void qc.invalidateQueries({ queryKey: keys.forSale });
      backToSearch();
    }
  };

  const sums = totals(sale);
  const empty = sale.lines.length === 0;
  const optionId = (i: number) => `sale-option-${i}`;

  return (
    <section className="pane sale-pane" aria-label="New sale" data-testid="sale">
      <div className="toolbar sale-search">
        <input
          ref={search}
          className="input sale-search-input"
          type="text"
          role="combobox"
          aria-label="Scan or search"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls="sale-results"
          aria-activedescendant={open ? optionId(Math.min(highlight, list.length - 1)) : undefined}
          placeholder="Scan a barcode, or type a name or SKU"
          autoComplete="off"
          spellCheck={false}
          data-testid="sale-search"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setHighlight(0);
            if (e.target.value === "") timer.current.clear();
          }}
          onKeyDown={onSearchKey}
        />
        <PermHint permission="sell" />
      </div>
      <div className="sale-notice" role="status" aria-live="polite" data-testid="sale-notice" data-tone={notice?.tone}>
        {notice?.text}
      </div>
      <ul id="sale-results" className="sale-results" role="listbox" aria-label="Matching variants" hidden={!open}>
        {list.map((v, i) => (
          <li
            key={v.variant_id}
            id={optionId(i)}
            role="option"
            aria-selected={i === highlight}
            className={`sale-result ${i === highlight ? "sale-result-on" : ""}`}
            data-testid="sale-result"
            // Keeps the focus in the search box.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => add(v)}
          >
            <span className="sale-name">{variantName(v)}</span>
            <span className="muted mono">{v.sku}</span>
            <span className="spacer" />
            <span className="muted">{v.available} available</span>
            <span className="num">{formatMoney(v.price_minor, v.currency)}</span>
          </li>
        ))}
      </ul>

      {empty ? (
        <div className="muted empty-inline sale-empty">No items yet. Scan a barcode or search above.</div>
      ) : (
        <div className="table-wrap">
          <table className="grid-table sale-lines" aria-label="Sale lines">
            <thead>
              <tr>
                <th>Item</th>
                <th>SKU</th>
                <th className="num">Price</th>
                <th className="num">Quantity</th>
                <th className="num">Available</th>
                {tillHolds && <th className="num">This till holds</th>}
                <th className="num">Line total</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {sale.lines.map((l) => {
                const v = l.variant;
                const q = quantityOf(l);
                const over = wantsMoreThanAvailable(l);
                return (
                  <tr key={v.variant_id} data-testid="sale-line" data-sku={v.sku} className={l.short ? "sale-short" : ""}>
                    <td>{variantName(v)}</td>
                    <td className="mono">{v.sku}</td>
                    <td className="num">{formatMoney(v.price_minor, v.currency)}</td>
                    <td className="num">
                      <input
                        className={`input cell num sale-qty ${q === null ? "invalid" : ""}`}
                        aria-label={`Quantity of ${v.sku}`}
                        inputMode="numeric"
                        value={l.quantity}
                        onChange={(e) => dispatch({ type: "quantity", variantId: v.variant_id, quantity: e.target.value })}
                        onKeyDown={(e) => {
                          if (e.key === "Enter" || e.key === "Escape") {
                            e.preventDefault();
                            backToSearch();
                          }
                        }}
                      />
                      {q === null && <div className="field-error">Enter a whole number</div>}
                    </td>
                    <td className={`num ${over || l.short ? "sale-over" : ""}`} data-testid="sale-available">
                      {l.short ? `${l.short.available} available, ${l.short.requested} wanted` : over ? `${v.available} available, ${q} wanted` : v.available}
                    </td>
                    {tillHolds && <td className="num">{tillHolds(v.variant_id) ?? "—"}</td>}
                    <td className="num">{q === null ? "—" : formatMoney(q * v.price_minor, v.currency)}</td>
                    <td className="actions">
                      <button
                        className="btn btn-icon"
                        aria-label={`Remove ${v.sku}`}
                        title="Remove from the sale"
                        onClick={() => {
                          dispatch({ type: "remove", variantId: v.variant_id });
                          backToSearch();
                        }}
                      >
                        ✕
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <div className="sale-foot">
        <div className="sale-total" data-testid="sale-total" aria-label="Total">
          <span className="muted">Total</span>{" "}
          <strong>{sums === null || sums.length === 0 ? "—" : sums.map((t) => formatMoney(t.amount_minor, t.currency)).join(" + ")}</strong>
        </div>
        <span className="spacer" />
        <button className="btn" data-testid="sale-clear" disabled={empty || busy} onClick={() => {
          dispatch({ type: "clear" });
          setNotice(null);
          backToSearch();
        }}>
          Clear sale
        </button>
        <GatedButton permission="sell" className="btn" data-testid="sale-hold" disabled={empty || busy} onClick={() => void ringUp(true)}>
          Hold for 15 min
        </GatedButton>
        <GatedButton permission="sell" className="btn btn-primary" data-testid="sale-paid" disabled={empty || busy} onClick={() => void ringUp(false)}>
          Paid
        </GatedButton>
      </div>
    </section>
  );
}
