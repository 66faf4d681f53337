import { useConnection } from "../../lib/queries";

/** Which database, who is acting, and (when the sweeper lands in the core) its health. */
export function StatusBar({ onSettings }: { onSettings: () => void }) {
  const conn = useConnection();
  const info = conn.data;
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
      <span className="spacer" />
      {info && <span className="status-item muted">Signed in as {info.actor}</span>}
    </footer>
  );
}
