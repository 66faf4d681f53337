import { timeAgo } from "../../lib/format";
import { useBackupStatus, useConnection, useSignIn, useSweeperHealth } from "../../lib/queries";
import { ROLE_LABEL } from "../staff/permissions";
import { SyncStatusItem } from "../sync/SyncStatusItem";

/** Which database, who is acting, and the background sweeper's health. */
export function StatusBar({ onSettings }: { onSettings: () => void }) {
  const conn = useConnection();
  const info = conn.data;
  const health = useSweeperHealth();
  const signIn = useSignIn().data;
  const who = signIn?.session;
  const person = !who
    ? info
      ? `Signed in as ${info.actor}`
      : null
    : who.profile
      ? `${signIn.locked ? "Locked" : "Signed in"} as ${who.profile.name} (${ROLE_LABEL[who.profile.role].toLowerCase()})`
      : who.shop_has_profiles
        ? "Nobody signed in"
        : `Signed in as ${who.actor} (owner, no staff profiles)`;
  const backups = useBackupStatus().data;
  const failed = backups?.last_error ? backups.last_error_at ?? "" : "";
  const backup = !backups
    ? null
    : failed && (!backups.last || failed > backups.last.at)
      ? { bad: true, text: "Backup failing", title: `${backups.last_error} (${backups.dir})` }
      : backups.last
        ? { bad: false, text: `Backup ${timeAgo(backups.last.at)}`, title: `${backups.count} daily backups (the newest ${backups.keep} are kept) in ${backups.dir}` }
        : { bad: false, text: "No backup yet", title: `The first daily backup is made a minute after start, into ${backups.dir}` };
  const h = health.data;
  const sweeper = !h
    ? null
    : h.failures_in_a_row > 0
      ? { bad: true, text: `Sweeper failing (${h.failures_in_a_row} runs)`, title: h.last_run?.jobs.find((j) => j.error)?.error?.message ?? "" }
      : h.overdue_orders > 0 && h.last_ok_at === null
        ? { bad: true, text: `Sweeper not running · ${h.overdue_orders} overdue orders`, title: "" }
        : {
            bad: false,
            text: h.last_ok_at ? `Sweeper ok · ${timeAgo(h.last_ok_at)}` : "Sweeper starting…",
            title: h.failing_blob_deletions > 0 ? `${h.failing_blob_deletions} file deletions waiting for a retry` : "",
          };
  return (
    <footer className="statusbar" data-testid="statusbar">
      {info ? (
        <button className={`status-item link ${info.error ? "status-bad" : "status-ok"}`} onClick={onSettings} title={info.database}>
          <span className="dot" aria-hidden />
          {info.error ? `Database unavailable: ${info.error.message}` : `${info.backend === "postgres" ? "Postgres" : "SQLite"} · ${info.database}`}
        </button>
      ) : (
        <span className="status-item muted">Connecting…</span>
      )}
      <SyncStatusItem />
      <span className="spacer" />
      {sweeper && (
        <span className={`status-item ${sweeper.bad ? "status-bad" : "muted"}`} title={sweeper.title} data-testid="sweeper-status">
          <span className="dot" aria-hidden />
          {sweeper.text}
        </span>
      )}
      {backup && (
        <span className={`status-item ${backup.bad ? "status-bad" : "muted"}`} title={backup.title} data-testid="backup-status">
          <span className="dot" aria-hidden />
          {backup.text}
        </span>
      )}
      {person && (
        <span className="status-item muted" data-testid="status-person">
          {person}
        </span>
      )}
    </footer>
  );
}
