import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, events, type JoinProgress } from "../../bindings";
import { call, errorCode, explain } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { useConnection } from "../../lib/queries";
import { useToast } from "../../components/Toasts";
import { usePermissions } from "../staff/permissions";
import { useAppEvent } from "../../lib/events";
import { syncKeys, useSyncStatus } from "./queries";

/** Joining and leaving are the owner's, as the core decides (`owner_only`: managing staff). */
const OWNER_ONLY = "Joining or leaving a shop needs the owner";

/** What a failed join or leave means, by code (the core's message follows it). */
export function shopErrorText(e: unknown): string {
  const hint: Partial<Record<string, string>> = {
    unreachable: "The shop's Postgres did not answer: check the URL, the network and the server.",
    bad_input: "This cannot join as it is (only an empty database joins, and a shop is a postgres:// URL).",
    invalid_state: "Not while commands wait: sync first and resolve what needs attention.",
    forbidden: OWNER_ONLY + ".",
  };
  const code = errorCode(e);
  const first = code ? hint[code] : undefined;
  return first ? `${first} ${explain(e)}` : explain(e);
}

function percent(p: JoinProgress | null): number {
  if (!p || p.total <= 0) return p?.phase === "done" ? 100 : 0;
  return Math.min(100, Math.round((p.done / p.total) * 100));
}

/** Settings → Shop: join a shop as a terminal (works offline on a replica), or see and leave it. */
export function ShopSettings() {
  const status = useSyncStatus();
  const info = useConnection().data;
  const perms = usePermissions();
  const ownerWhy = perms.can("manage_staff") ? null : OWNER_ONLY;
  const qc = useQueryClient();
  const toast = useToast();
  const [url, setUrl] = useState("");
  const [name, setName] = useState<string | null>(null);
  const [joining, setJoining] = useState(false);
  const [progress, setProgress] = useState<JoinProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = status.data;
  const terminals = useQuery({ queryKey: [...syncKeys.all, "terminals"], queryFn: () => call(commands.shopTerminals()), enabled: !!s?.joined, retry: false });

  useAppEvent(events.joinProgressed, (e) => setProgress(e.progress));

  const refresh = () => void qc.invalidateQueries();
  const join = async () => {
    setJoining(true);
    setError(null);
    setProgress(null);
    try {
      const report = await call(commands.joinShop(url.trim(), (name ?? info?.default_terminal_name ?? "").trim() || null));
      toast("success", "Joined the shop", `${report.products} products copied as terminal ${report.terminal_name}`);
      setUrl("");
      refresh();
    } catch (e) {
      setError(shopErrorText(e));
    } finally {
      setJoining(false);
    }
  };
  const leave = async () => {
    setBusy(true);
    setError(null);
    try {
      await call(commands.leaveShop());
      toast("success", "Left the shop", "This database keeps its copy as a database of its own.");
      refresh();
    } catch (e) {
      setError(shopErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  const syncNow = async () => {
    setBusy(true);
    setError(null);
    try {
      await call(commands.syncNow());
    } catch (e) {
      setError(shopErrorText(e));
    } finally {
      setBusy(false);
      void qc.invalidateQueries({ queryKey: syncKeys.all });
    }
  };

  if (!s) return status.error ? <div className="banner banner-error">{explain(status.error)}</div> : null;
  if (s.joined) {
    const unsynced = s.pending > 0 || s.attention > 0;
    const leaveWhy = ownerWhy ?? (unsynced ? `Not while ${s.pending} command(s) wait for the shop and ${s.attention} need attention: sync and resolve them first` : null);
    return (
      <div data-testid="shop-settings" data-joined="true">
        <h3 className="dialog-sub">This terminal's shop</h3>
        <dl className="facts">
          <dt>Shop</dt>
          <dd className="mono" data-testid="shop-url">{s.shop}</dd>
          <dt>Terminal</dt>
          <dd data-testid="shop-terminal">{s.terminal}</dd>
          <dt>Waiting</dt>
          <dd>
            {s.pending} pending, {s.attention} need attention
          </dd>
          <dt>Last sync</dt>
          <dd>{s.last_sync_at ? <span title={dateTime(s.last_sync_at)}>{timeAgo(s.last_sync_at)}</span> : "not yet"}</dd>
        </dl>
        {terminals.data && (
          <>
            <h3 className="dialog-sub">The shop's terminals</h3>
            <table className="grid-table" aria-label="The shop's terminals">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Last heard from</th>
                </tr>
              </thead>
              <tbody>
                {terminals.data.map((t) => (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td>{t.left_at ? "left" : timeAgo(t.last_seen_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {error && (
          <div className="banner banner-error" role="alert" data-testid="shop-error">
            {error}
          </div>
        )}
        <div className="dialog-actions">
          <button className="btn" disabled={busy} onClick={() => void syncNow()} data-testid="sync-now">
            Sync now
          </button>
          <span className="spacer" />
          <button
            className="btn btn-danger"
            aria-disabled={leaveWhy !== null || busy ? true : undefined}
            title={leaveWhy ?? "Stop being a terminal of this shop"}
            onClick={() => (leaveWhy === null && !busy ? void leave() : setError(leaveWhy))}
            data-testid="leave-shop"
          >
            Leave the shop
          </button>
        </div>
      </div>
    );
  }
  return (
    <div data-testid="shop-settings" data-joined="false">
      <h3 className="dialog-sub">Join a shop</h3>
      <p className="dialog-text">
        This terminal copies the shop from its Postgres and then works on its own copy, also while the network or the server is down; what it does reaches the shop when it answers
        again. Only an empty database joins.
      </p>
      <label className="field field-wide">
        <span className="label">The shop's Postgres URL</span>
        <input className="input mono" placeholder="postgres://user:password@host:5432/shop" value={url} onChange={(e) => setUrl(e.target.value)} disabled={joining} data-testid="join-url" />
      </label>
      <label className="field field-wide">
        <span className="label">This terminal's name</span>
        <input className="input" value={name ?? info?.default_terminal_name ?? ""} onChange={(e) => setName(e.target.value)} disabled={joining} data-testid="join-name" />
      </label>
      {joining && (
        <div className="import-progress">
          <div className="progress" role="progressbar" aria-label="Joining the shop" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent(progress)} data-testid="join-progress">
            <div className="progress-bar" style={{ width: `${percent(progress)}%` }} />
          </div>
          <span className="muted">
            {progress ? `${progress.phase.replace(/_/g, " ")}${progress.table ? ` ${progress.table}` : ""}: ${progress.done} of ${progress.total}` : "Connecting…"}
          </span>
        </div>
      )}
      {error && (
        <div className="banner banner-error" role="alert" data-testid="shop-error">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <span className="spacer" />
        {joining ? (
          <button className="btn" onClick={() => void commands.cancelJoin()} data-testid="join-cancel">
            Cancel
          </button>
        ) : (
          <button
            className="btn btn-primary"
            aria-disabled={ownerWhy !== null || !url.trim() ? true : undefined}
            title={ownerWhy ?? undefined}
            onClick={() => ownerWhy === null && url.trim() && void join()}
            data-testid="join-shop"
          >
            Join the shop
          </button>
        )}
      </div>
    </div>
  );
}
