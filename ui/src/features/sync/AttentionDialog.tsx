import { useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type Attention, type ConflictReport, type Resolution } from "../../bindings";
import { call, CommandError, explain } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { useCategories } from "../../lib/queries";
import { useToast } from "../../components/Toasts";
import { ConflictDialog } from "../conflicts/ConflictDialog";
import { resolutionFor } from "./resolution";
import { syncKeys, useAttention } from "./queries";

/** "patch_product" → "Patch product". */
export function kindLabel(kind: string): string {
  const words = kind.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The clash an entry holds (base / mine / theirs per field), if it is one. */
export function clashOf(a: Attention): ConflictReport | null {
  return a.error.code === "conflict" ? a.error.details : null;
}

/** What the shop set aside from this terminal: who, what, when and why; each resolved here. */
export function AttentionDialog({ onClose }: { onClose: () => void }) {
  const list = useAttention(true);
  const qc = useQueryClient();
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  const [clash, setClash] = useState<Attention | null>(null);

  const resolve = async (a: Attention, resolution: Resolution) => {
    setBusy(a.op_id);
    try {
      await call(commands.syncResolve(a.op_id, resolution));
      toast("success", resolution.action === "discard" ? "Discarded" : "Resolved", "The shop hears of it with the next sync.");
      setClash(null);
    } catch (e) {
      // A clash met again (someone saved meanwhile) shows in the list once the shop decides.
      toast("error", "Could not resolve it", explain(e));
    } finally {
      setBusy(null);
      void qc.invalidateQueries({ queryKey: syncKeys.all });
      void qc.invalidateQueries({ queryKey: ["products"] });
      void qc.invalidateQueries({ queryKey: ["product"] });
    }
  };

  const items = list.data ?? [];
  return (
    <>
      <Dialog.Root open={clash === null} onOpenChange={(o) => !o && onClose()}>
        <Dialog.Portal>
          <Dialog.Overlay className="overlay" />
          <Dialog.Content className="dialog dialog-wide" data-testid="attention-dialog" aria-describedby="attention-desc">
            <Dialog.Title className="dialog-title">Needs attention</Dialog.Title>
            <p id="attention-desc" className="dialog-text">
              The shop set these commands aside instead of applying them. Nothing you typed is lost: choose what becomes of each.
            </p>
            {list.error && <div className="banner banner-error">{explain(list.error)}</div>}
            {items.length === 0 && !list.isLoading && <p className="muted">Nothing waits for you.</p>}
            <ul className="attention-list">
              {items.map((a) => {
                const isClash = clashOf(a) !== null;
                return (
                  <li key={a.op_id} className="attention-item" data-testid="attention-item" data-kind={a.kind} data-code={a.error.code}>
                    <div className="attention-head">
                      <strong>{kindLabel(a.kind)}</strong>
                      <span className="muted">
                        {" "}
                        by {a.actor}, <span title={dateTime(a.made_at)}>{timeAgo(a.made_at)}</span>
                      </span>
                    </div>
                    <div className="attention-reason" data-testid="attention-reason">
                      {explain(new CommandError(a.error))}
                    </div>
                    <div className="attention-actions">
                      {isClash ? (
                        <button className="btn btn-primary btn-small" disabled={busy !== null} onClick={() => setClash(a)} data-testid="attention-open">
                          Resolve the clash…
                        </button>
                      ) : (
                        <button className="btn btn-small" disabled={busy !== null} onClick={() => void resolve(a, { action: "retry" })} data-testid="attention-retry">
                          Retry
                        </button>
                      )}
                      <button className="btn btn-small" disabled={busy !== null} onClick={() => void resolve(a, { action: "discard" })} data-testid="attention-discard">
                        Discard
                      </button>
                    </div>
                  </li>
                );
              })}
            </ul>
            <div className="dialog-actions">
              <Dialog.Close className="btn">Close</Dialog.Close>
            </div>
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
      {clash && <ClashResolver entry={clash} onResolve={(r) => void resolve(clash, r)} onCancel={() => setClash(null)} />}
    </>
  );
}

/** The editor's conflict dialog for a set-aside edit: my edit against the version it was made on. */
function ClashResolver({ entry, onResolve, onCancel }: { entry: Attention; onResolve: (r: Resolution) => void; onCancel: () => void }) {
  const report = clashOf(entry)!;
  const categories = useCategories();
  const base = useQuery({
    queryKey: ["product-version", report.product_id, report.expected_version],
    queryFn: () => call(commands.productVersion(report.product_id, report.expected_version)),
    retry: false,
  });
  const kind = entry.command.kind;
  if (base.isLoading) return null;
  // The version the edit was made on may be unknown here; the current one names things as well.
  const mineBase = base.data ?? report.current;
  return (
    <ConflictDialog
      report={report}
      mineBase={mineBase}
      categories={categories.data ?? []}
      onResolve={(choices) => onResolve(kind.type === "patch_product" ? resolutionFor(kind.patch, report, choices) : { action: "keep_mine" })}
      onCancel={onCancel}
    />
  );
}
