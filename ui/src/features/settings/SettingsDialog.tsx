import { useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import * as Tabs from "@radix-ui/react-tabs";
import { useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { call, describeError } from "../../lib/api";
import { keys, useConnection, useSignIn } from "../../lib/queries";
import { useToast } from "../../components/Toasts";
import type { Theme } from "../../components/theme";
import { StaffSettings } from "../staff/StaffSettings";
import { ShopSettings } from "../sync/ShopSettings";

export type SettingsTab = "general" | "staff" | "shop";

type Props = {
  /** The tab shown; null: closed. */
  tab: SettingsTab | null;
  onTab: (t: SettingsTab) => void;
  onClose: () => void;
  theme: Theme;
  onTheme: (t: Theme) => void;
};

/** Where the data lives (SQLite file or a Postgres server), how the app looks, and who works here. */
export function SettingsDialog({ tab, onTab, onClose, theme, onTheme }: Props) {
  const conn = useConnection();
  const who = useSignIn().data?.session.actor;
  const qc = useQueryClient();
  const toast = useToast();
  const [url, setUrl] = useState("");
  const [test, setTest] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (what: "test" | "use" | "sqlite") => {
    setBusy(true);
    setTest(null);
    try {
      if (what === "test") {
        const backend = await call(commands.testConnection(url));
        setTest({ ok: true, text: `Connected (${backend}).` });
      } else {
        const info = await call(commands.useDatabase(what === "sqlite" ? null : url));
        qc.setQueryData(keys.connection, info);
        // Switching databases signs out: the other shop has its own staff.
        void qc.invalidateQueries();
        toast("success", "Database switched", info.database);
        onClose();
      }
    } catch (e) {
      setTest({ ok: false, text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };

  const info = conn.data;
  return (
    <Dialog.Root open={tab !== null} onOpenChange={(o) => !o && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog" aria-describedby={undefined} data-testid="settings">
          <Dialog.Title className="dialog-title">Settings</Dialog.Title>
          <Tabs.Root value={tab ?? "general"} onValueChange={(t) => onTab(t as SettingsTab)}>
          <Tabs.List className="tab-list" aria-label="Settings">
            <Tabs.Trigger className="tab" value="general">
              Database and appearance
            </Tabs.Trigger>
            <Tabs.Trigger className="tab" value="staff" data-testid="settings-staff-tab">
              Staff and sign-in
            </Tabs.Trigger>
            <Tabs.Trigger className="tab" value="shop" data-testid="settings-shop-tab">
              Shop
            </Tabs.Trigger>
          </Tabs.List>
          <Tabs.Content value="general">
          <h3 className="dialog-sub">Database</h3>
          {info && (
            <dl className="facts">
              <dt>In use</dt>
              <dd className="mono">{info.database}</dd>
              <dt>Chosen by</dt>
              <dd>{{ environment: "STOCKDESK_DB (environment)", settings: "these settings", default: "default (local SQLite file)" }[info.source]}</dd>
              <dt>Data folder</dt>
              <dd className="mono">{info.data_dir}</dd>
              <dt>Working as</dt>
              <dd>{who ?? info.actor}</dd>
            </dl>
          )}
          {info?.error && <div className="banner banner-error">Could not open it: {info.error.message}</div>}
          {info?.source === "environment" && (
            <div className="banner banner-info">STOCKDESK_DB is set, so it is used again on the next start whatever you choose here.</div>
          )}
          <label className="field field-wide">
            <span className="label">Postgres URL</span>
            <input
              className="input mono"
              placeholder="postgres://user:password@host:5432/shop"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
            />
          </label>
          {test && <div className={`banner ${test.ok ? "banner-ok" : "banner-error"}`}>{test.text}</div>}
          <div className="dialog-actions">
            <button className="btn" disabled={busy} onClick={() => void run("sqlite")}>
              Use local SQLite file
            </button>
            <span className="spacer" />
            <button className="btn" disabled={busy || !url.trim()} onClick={() => void run("test")}>
              Test connection
            </button>
            <button className="btn btn-primary" disabled={busy || !url.trim()} onClick={() => void run("use")}>
              Use this database
            </button>
          </div>
          <h3 className="dialog-sub">Appearance</h3>
          <div className="segmented" role="radiogroup" aria-label="Theme">
            {(["system", "light", "dark"] as const).map((t) => (
              <button key={t} role="radio" aria-checked={theme === t} className={`seg ${theme === t ? "seg-on" : ""}`} onClick={() => onTheme(t)}>
                {t[0].toUpperCase() + t.slice(1)}
              </button>
            ))}
          </div>
          </Tabs.Content>
          <Tabs.Content value="staff">
            <StaffSettings />
          </Tabs.Content>
          <Tabs.Content value="shop">
            <ShopSettings />
          </Tabs.Content>
          </Tabs.Root>
          <div className="dialog-actions">
            <Dialog.Close className="btn" data-testid="settings-close">
              Close
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
