import { useState } from "react";
import { useSyncStatus } from "./queries";
import { syncLabel } from "./label";
import { AttentionDialog } from "./AttentionDialog";

/** The status bar's sync: Online / Offline / Syncing, what waits, the last sync, and "Needs attention". */
export function SyncStatusItem() {
  const status = useSyncStatus().data;
  const [open, setOpen] = useState(false);
  const label = syncLabel(status);
  if (!status || !label) return null;
  return (
    <>
      <span
        className={`status-item ${label.state === "offline" ? "status-bad" : label.state === "online" ? "status-ok" : "muted"}`}
        title={label.title}
        data-testid="sync-status"
        data-state={label.state}
        data-pending={status.pending}
        role="status"
      >
        <span className="dot" aria-hidden />
        <span data-testid="sync-state">{label.text}</span>
        <span className="muted" data-testid="sync-detail">
          {" "}
          · {label.detail}
        </span>
      </span>
      {status.attention > 0 && (
        <button className="status-item link status-bad" onClick={() => setOpen(true)} data-testid="attention-button">
          Needs attention{" "}
          <span className="badge badge-count" data-testid="attention-count" aria-label={`${status.attention} commands`}>
            {status.attention}
          </span>
        </button>
      )}
      {open && <AttentionDialog onClose={() => setOpen(false)} />}
    </>
  );
}
