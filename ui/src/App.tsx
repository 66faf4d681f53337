import { useCallback, useEffect, useRef, useState } from "react";
import { Confirm } from "./components/Confirm";
import { applyTheme, loadTheme, type Theme } from "./components/theme";
import { Editor } from "./features/editor/Editor";
import { OrdersView } from "./features/orders/OrdersView";
import { stopEditing } from "./features/presence/presence";
import { NewProductDialog } from "./features/products/NewProductDialog";
import { ProductList } from "./features/products/ProductList";
import { SettingsDialog } from "./features/settings/SettingsDialog";
import { StatusBar } from "./features/status/StatusBar";
import { ExportDialog } from "./features/transfer/ExportDialog";
import { ImportDialog } from "./features/transfer/ImportDialog";
import { useChangeEvents } from "./lib/queries";

/** The window: product list on the left, the open product on the right, status bar below. */
export function App() {
  useChangeEvents();
  const [section, setSection] = useState<"products" | "orders">("products");
  const [selected, setSelected] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [settings, setSettings] = useState(false);
  const [transfer, setTransfer] = useState<"import" | "export" | null>(null);
  const [theme, setTheme] = useState<Theme>(loadTheme);
  const dirty = useRef(false);
  const onDirtyChange = useCallback((d: boolean) => {
    dirty.current = d;
  }, []);

  useEffect(() => {
    applyTheme(theme);
    const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
    const follow = () => applyTheme(theme);
    mq?.addEventListener?.("change", follow);
    return () => mq?.removeEventListener?.("change", follow);
  }, [theme]);

  // Unsaved-changes guard, for closing the window too.
  const [closing, setClosing] = useState(false);
  useEffect(() => {
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    import("@tauri-apps/api/window")
      .then(({ getCurrentWindow }) =>
        getCurrentWindow().onCloseRequested((e) => {
          if (dirty.current) {
            e.preventDefault();
            setClosing(true);
          }
        }),
      )
      .then((u) => (cancelled ? u() : (unlisten = u)))
      .catch(() => {
        /* not in a Tauri window (unit tests) */
      });
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, []);

  // Unsaved-changes guard: opening another product asks first.
  const open = (id: string) => {
    if (id === selected) return;
    if (dirty.current) setPending(id);
    else setSelected(id);
  };

  return (
    <div className="app">
      <header className="titlebar">
        <div className="brand">
          <span className="logo" aria-hidden />
          Stockdesk
        </div>
        <nav className="nav" aria-label="Sections">
          {(["products", "orders"] as const).map((s) => (
            <button
              key={s}
              className={`nav-item ${section === s ? "nav-on" : ""}`}
              aria-current={section === s ? "page" : undefined}
              data-testid={`nav-${s}`}
              onClick={() => setSection(s)}
            >
              {s === "products" ? "Products" : "Orders"}
            </button>
          ))}
        </nav>
        <span className="spacer" />
        <button className="btn btn-ghost" onClick={() => setTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark")}
          title="Switch light/dark"
          aria-label="Switch light/dark"
          data-testid="theme-toggle"
        >
          {theme === "dark" || (theme === "system" && document.documentElement.dataset.theme === "dark") ? "☀" : "☾"}
        </button>
        <button className="btn btn-ghost" onClick={() => setTransfer("import")} data-testid="open-import">
          Import…
        </button>
        <button className="btn btn-ghost" onClick={() => setTransfer("export")} data-testid="open-export">
          Export…
        </button>
        <button className="btn btn-ghost" onClick={() => setSettings(true)} data-testid="open-settings">
          Settings
        </button>
      </header>
      {/* Both sections stay mounted, so switching to Orders never drops an edit in progress. */}
      <main className="workspace" hidden={section !== "products"}>
        <ProductList selectedId={selected} onOpen={open} onNew={() => setCreating(true)} />
        <Editor productId={selected} onDirtyChange={onDirtyChange} />
      </main>
      {section === "orders" && (
        <main className="workspace workspace-single">
          <OrdersView />
        </main>
      )}
      <StatusBar onSettings={() => setSettings(true)} />

      <Confirm
        open={pending !== null}
        title="Discard unsaved changes?"
        body="You have changes to this product that are not saved. Opening another product discards them."
        confirm="Discard changes"
        cancel="Keep editing"
        danger
        onConfirm={() => {
          dirty.current = false;
          setSelected(pending);
          setPending(null);
        }}
        onCancel={() => setPending(null)}
      />
      <Confirm
        open={closing}
        title="Quit with unsaved changes?"
        body="Your changes to this product are not saved. Quitting discards them."
        confirm="Discard and quit"
        cancel="Keep editing"
        danger
        onConfirm={() => {
          dirty.current = false;
          // Tell the other terminals at once that this one stopped editing, then close.
          void stopEditing()
            .then(() => import("@tauri-apps/api/window"))
            .then(({ getCurrentWindow }) => getCurrentWindow().destroy());
        }}
        onCancel={() => setClosing(false)}
      />
      <NewProductDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => {
          setCreating(false);
          open(id);
        }}
      />
      <ImportDialog open={transfer === "import"} onClose={() => setTransfer(null)} />
      <ExportDialog open={transfer === "export"} onClose={() => setTransfer(null)} />
      <SettingsDialog open={settings} onClose={() => setSettings(false)} theme={theme} onTheme={setTheme} />
    </div>
  );
}
