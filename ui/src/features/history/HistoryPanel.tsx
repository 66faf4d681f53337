import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { PatchOutcome, Product } from "../../bindings";
import { describeError, errorCode, explain } from "../../lib/api";
import { writes } from "../../lib/commands";
import { dateTime, timeAgo } from "../../lib/format";
import { invalidateProduct, useHistory } from "../../lib/queries";
import { Confirm } from "../../components/Confirm";
import { ErrorState, Spinner } from "../../components/States";
import { useToast } from "../../components/Toasts";
import { pathLabel } from "../conflicts/labels";
import { GatedButton, PermHint } from "../staff/Gated";

type Props = { product: Product; dirty: boolean; onRestored: (o: PatchOutcome) => void };

/** Every version with who, when and what; restoring one is a new, version-checked edit. */
export function HistoryPanel({ product, dirty, onRestored }: Props) {
  const history = useHistory(product.id);
  const qc = useQueryClient();
  const toast = useToast();
  const [asking, setAsking] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const restore = async (to: number) => {
    setAsking(null);
    setBusy(true);
    try {
      onRestored(
        await writes.apply({ type: "restore_product", product_id: product.id, expected_version: product.version, to_version: to }),
      );
    } catch (e) {
      if (errorCode(e) === "conflict") {
        toast("error", "Not restored", "Someone changed the product meanwhile. Look at the latest version and try again.");
        invalidateProduct(qc, product.id);
      } else toast("error", "Not restored", explain(e));
    } finally {
      setBusy(false);
    }
  };

  if (history.isPending) return <Spinner label="Loading history…" />;
  if (history.isError)
    return <ErrorState title="Could not load the history" message={describeError(history.error)} onRetry={() => history.refetch()} />;
  return (
    <>
      {dirty && <div className="banner banner-info">Save or revert your changes before restoring an older version.</div>}
      <div className="perm-notes">
        <PermHint permission="restore" />
      </div>
      <ol className="history" data-testid="history">
        {history.data.map((h) => (
          <li key={h.version} className="history-item">
            <div className="history-head">
              <span className="version">v{h.version}</span>
              <span className="who">{h.actor}</span>
              <span className="muted" title={dateTime(h.at)}>
                {timeAgo(h.at)}
              </span>
              <span className="spacer" />
              {h.version === product.version ? (
                <span className="muted small">current</span>
              ) : (
                <GatedButton permission="restore" className="btn btn-small" disabled={dirty || busy} onClick={() => setAsking(h.version)}>
                  Restore…
                </GatedButton>
              )}
            </div>
            <div className="history-changes muted">
              {h.changes.length ? [...new Set(h.changes.map((c) => pathLabel(c, product)))].join(", ") : "created"}
            </div>
          </li>
        ))}
      </ol>
      <Confirm
        open={asking !== null}
        title={`Restore version ${asking}?`}
        body={`Fields, variants and image details go back to version ${asking}, saved as a new version. Stock figures stay as they are.`}
        confirm="Restore"
        onConfirm={() => asking !== null && void restore(asking)}
        onCancel={() => setAsking(null)}
      />
    </>
  );
}
