import { useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { open as pickFile } from "@tauri-apps/plugin-dialog";
import { useQueryClient } from "@tanstack/react-query";
import { commands, events, type ImportProgress, type ImportReport } from "../../bindings";
import { useToast } from "../../components/Toasts";
import { call, explain } from "../../lib/api";
import { useAppEvent } from "../../lib/events";
import { counts, hasWork, headline, percent, sortedProblems } from "./summary";

type Props = { open: boolean; onClose: () => void };
type Phase = "choose" | "checking" | "preview" | "importing" | "done";

/**
 * Import products from a CSV: pick the file, see what would happen (the core's dry run: every
 * product's command tried and rolled back, each row's problems), then import with a progress bar
 * and Cancel (which stops between two products).
 */
export function ImportDialog({ open, onClose }: Props) {
  const [path, setPath] = useState("");
  const [currency, setCurrency] = useState("");
  const [phase, setPhase] = useState<Phase>("choose");
  const [report, setReport] = useState<ImportReport | null>(null);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const qc = useQueryClient();
  const toast = useToast();

  useAppEvent(events.importProgressed, (e) => setProgress(e.progress), phase === "importing" || phase === "checking");

  const reset = () => {
    setPhase("choose");
    setReport(null);
    setProgress(null);
    setError(null);
  };
  const close = () => {
    if (phase === "importing" || phase === "checking") return;
    reset();
    onClose();
  };
  const choose = async () => {
    const picked = await pickFile({ multiple: false, directory: false, title: "Import products", filters: [{ name: "CSV", extensions: ["csv", "CSV"] }] });
    if (typeof picked === "string") {
      setPath(picked);
      reset();
    }
  };
  const run = async (dryRun: boolean) => {
    setError(null);
    setProgress(null);
    setPhase(dryRun ? "checking" : "importing");
    try {
      const r = await call(commands.importProducts(path.trim(), { currency: currency.trim() || null }, dryRun));
      setReport(r);
      setPhase(dryRun ? "preview" : "done");
      if (!dryRun) {
        void qc.invalidateQueries();
        toast(r.cancelled || r.stopped ? "info" : "success", "Import finished", headline(r));
      }
    } catch (e) {
      setError(explain(e));
      setPhase(dryRun ? "choose" : "preview");
    }
  };
  const busy = phase === "checking" || phase === "importing";

  return (
    <Dialog.Root open={open} onOpenChange={(o) => !o && close()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog dialog-wide" aria-describedby="import-help" data-testid="import-dialog">
          <Dialog.Title className="dialog-title">Import products</Dialog.Title>
          <p className="dialog-text" id="import-help">
            A product CSV in Shopify&apos;s layout or a Stockdesk export. Nothing is written until you import; each product is
            imported whole or not at all, and one changed in Stockdesk since the file was made is a conflict, never
            overwritten.
          </p>
          <div className="form-grid">
            <label className="field field-wide">
              <span className="label">File</span>
              <div className="input-row">
                <input className="input" value={path} onChange={(e) => { setPath(e.target.value); reset(); }} placeholder="/home/shop/products_export.csv" data-testid="import-path" disabled={busy} />
                <button className="btn" type="button" onClick={() => void choose()} disabled={busy}>
                  Choose file…
                </button>
              </div>
            </label>
            <label className="field">
              <span className="label">Currency of the prices</span>
              <input className="input" value={currency} onChange={(e) => { setCurrency(e.target.value.toUpperCase()); reset(); }} placeholder="the shop's (e.g. EUR)" maxLength={3} data-testid="import-currency" disabled={busy} />
            </label>
          </div>
          {error && <div className="banner banner-error" role="alert">{error}</div>}

          {busy && (
            <div className="import-progress">
              <div className="progress" role="progressbar" aria-label={phase === "checking" ? "Checking" : "Importing"} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent(progress)} data-testid="import-progress">
                <div className="progress-bar" style={{ width: `${percent(progress)}%` }} />
              </div>
              <span className="muted">
                {phase === "checking" ? "Checking" : "Importing"} {progress ? `${progress.done} of ${progress.total} products` : "…"}
              </span>
            </div>
          )}

          {report && !busy && <ReportView report={report} />}

          <div className="dialog-actions">
            {phase === "importing" ? (
              <button className="btn" type="button" onClick={() => void commands.cancelImport()} data-testid="import-cancel">
                Cancel import
              </button>
            ) : (
              <button className="btn" type="button" onClick={close} disabled={busy}>
                {phase === "done" ? "Close" : "Cancel"}
              </button>
            )}
            {phase !== "done" && (
              <button className="btn" type="button" onClick={() => void run(true)} disabled={busy || !path.trim()} data-testid="import-preview">
                Preview
              </button>
            )}
            {phase === "preview" && report && (
              <button className="btn btn-primary" type="button" onClick={() => void run(false)} disabled={!hasWork(report)} data-testid="import-run">
                Import {report.created + report.updated} product{report.created + report.updated === 1 ? "" : "s"}
              </button>
            )}
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** What an import did or would do: the counts, how the file was read, and every problem. */
function ReportView({ report }: { report: ImportReport }) {
  const problems = sortedProblems(report);
  const changed = report.items.filter((i) => i.action === "create" || i.action === "update");
  return (
    <div className="import-report">
      <p className="import-headline" data-testid="import-summary">
        {headline(report)}
      </p>
      <ul className="chips" aria-label="Products by outcome">
        {counts(report).map((c) => (
          <li key={c.action} className={`chip chip-${c.action}`} data-testid={`import-count-${c.action}`}>
            {c.n} {c.label}
          </li>
        ))}
      </ul>
      {(report.notes.length > 0 || report.ignored_columns.length > 0 || report.images_to_fetch > 0) && (
        <ul className="import-notes muted">
          {report.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
          {report.ignored_columns.length > 0 && (
            <li data-testid="import-ignored">
              Not imported (Stockdesk has no such field): {report.ignored_columns.map((c) => c.column).join(", ")}
            </li>
          )}
          {report.dry_run && report.images_to_fetch > 0 && (
            <li>{report.images_to_fetch} image file(s) are read during the import; one that cannot be read is reported then, and its product imported without it.</li>
          )}
        </ul>
      )}
      {problems.length > 0 && (
        <>
          <h3 className="dialog-sub">Problems</h3>
          <div className="table-wrap">
            <table className="report-table" data-testid="import-problems">
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Column</th>
                  <th scope="col">Product</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {problems.map((p, n) => (
                  <tr key={n} className={`problem-${p.kind}`} data-testid="import-problem">
                    <td>{p.row === 0 ? "file" : p.row}</td>
                    <td>{p.column ?? "—"}</td>
                    <td>{p.handle ?? "—"}</td>
                    <td>{p.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {changed.length > 0 && (
        <>
          <h3 className="dialog-sub">{report.dry_run ? "Would change" : "Changed"}</h3>
          <div className="table-wrap">
            <table className="report-table" data-testid="import-items">
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Rows</th>
                  <th scope="col">What</th>
                </tr>
              </thead>
              <tbody>
                {changed.slice(0, 200).map((i) => (
                  <tr key={i.handle}>
                    <td>
                      {i.name} <span className="muted">({i.handle})</span>
                    </td>
                    <td>{i.rows.length === 1 ? i.rows[0] : `${i.rows[0]}–${i.rows[i.rows.length - 1]}`}</td>
                    <td>{i.action === "create" ? `new · ${i.variants} variant(s), ${i.images} image(s)` : i.changes.join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {changed.length > 200 && <p className="muted">… and {changed.length - 200} more.</p>}
        </>
      )}
    </div>
  );
}
