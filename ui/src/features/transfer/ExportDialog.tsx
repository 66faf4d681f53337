import { useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { save } from "@tauri-apps/plugin-dialog";
import { commands, type ExportKind, type ExportReport } from "../../bindings";
import { useToast } from "../../components/Toasts";
import { call, explain } from "../../lib/api";
import { defaultFileName, range, takesRange } from "./summary";

type Props = { open: boolean; onClose: () => void };

const KINDS: { kind: ExportKind; label: string; hint: string }[] = [
  { kind: "products", label: "Products", hint: "with variants and images, in the import's layout (Shopify's columns and Stockdesk's)" },
  { kind: "stock", label: "Stock levels", hint: "on hand, reserved by pending orders and available, per variant" },
  { kind: "orders", label: "Orders", hint: "one row per order line, orders made in the range" },
  { kind: "ledger", label: "Stock ledger", hint: "every stock movement in the range" },
];

/** Writes a CSV file of the shop's data (the core streams it; large shops take a moment). */
export function ExportDialog({ open, onClose }: Props) {
  const [kind, setKind] = useState<ExportKind>("products");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [path, setPath] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<ExportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const toast = useToast();
  const span = takesRange(kind) ? range(from, to) : { from: null, to: null };

  const choose = async () => {
    const picked = await save({ title: "Export to", defaultPath: defaultFileName(kind), filters: [{ name: "CSV", extensions: ["csv"] }] });
    if (picked) setPath(picked);
  };
  const run = async () => {
    if (!span) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = await call(commands.exportCsv({ kind, from: span.from, to: span.to }, path.trim()));
      setDone(r);
      toast("success", "Exported", `${r.rows} rows to ${r.file}`);
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog.Root open={open} onOpenChange={(o) => !o && !busy && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog" aria-describedby="export-help" data-testid="export-dialog">
          <Dialog.Title className="dialog-title">Export as CSV</Dialog.Title>
          <p className="dialog-text" id="export-help">
            UTF-8 with a header row. Text a spreadsheet would run as a formula starts with an apostrophe.
          </p>
          <fieldset className="choice-list">
            <legend className="label">What</legend>
            {KINDS.map((k) => (
              <label key={k.kind} className="choice">
                <input type="radio" name="export-kind" value={k.kind} checked={kind === k.kind} onChange={() => { setKind(k.kind); setDone(null); }} data-testid={`export-kind-${k.kind}`} />
                <span>
                  <strong>{k.label}</strong> <span className="muted">— {k.hint}</span>
                </span>
              </label>
            ))}
          </fieldset>
          {takesRange(kind) && (
            <div className="form-grid">
              <label className="field">
                <span className="label">From (day)</span>
                <input className="input" type="date" value={from} onChange={(e) => setFrom(e.target.value)} data-testid="export-from" />
              </label>
              <label className="field">
                <span className="label">To (day, included)</span>
                <input className={`input ${span ? "" : "invalid"}`} type="date" value={to} onChange={(e) => setTo(e.target.value)} data-testid="export-to" />
                {!span && <div className="field-error">The range ends before it starts</div>}
              </label>
            </div>
          )}
          <label className="field field-wide">
            <span className="label">File</span>
            <div className="input-row">
              <input className="input" value={path} onChange={(e) => setPath(e.target.value)} placeholder={`/home/shop/${defaultFileName(kind)}`} data-testid="export-path" />
              <button className="btn" type="button" onClick={() => void choose()}>
                Choose…
              </button>
            </div>
          </label>
          {error && <div className="banner banner-error" role="alert">{error}</div>}
          {done && (
            <p className="export-result" role="status" data-testid="export-result">
              Wrote {done.rows} row{done.rows === 1 ? "" : "s"} to {done.file}
            </p>
          )}
          <div className="dialog-actions">
            <button className="btn" type="button" onClick={onClose} disabled={busy}>
              Close
            </button>
            <button className="btn btn-primary" type="button" onClick={() => void run()} disabled={busy || !path.trim() || !span} data-testid="export-run">
              {busy ? "Exporting…" : "Export"}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
