import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { StaffProfile } from "./bindings";
import { Confirm } from "./components/Confirm";
import { useToast } from "./components/Toasts";
import { applyTheme, loadTheme, type Theme } from "./components/theme";
import { Editor } from "./features/editor/Editor";
import { OrdersView } from "./features/orders/OrdersView";
import { ReportsView } from "./features/reports/ReportsView";
import { SaleView } from "./features/sale/SaleView";
import { stopEditing } from "./features/presence/presence";
import { NewProductDialog } from "./features/products/NewProductDialog";
import { ProductList } from "./features/products/ProductList";
import { SettingsDialog, type SettingsTab } from "./features/settings/SettingsDialog";
import { useIdleLock } from "./features/staff/idle";
import { PersonButton } from "./features/staff/PersonButton";
import { PermissionsContext, permissionsOf } from "./features/staff/permissions";
import { useSignInActions } from "./features/staff/session";
import { WhoIsWorking, type WhoMode } from "./features/staff/WhoIsWorking";
import { StatusBar } from "./features/status/StatusBar";
import { ExportDialog } from "./features/transfer/ExportDialog";
import { ImportDialog } from "./features/transfer/ImportDialog";
import { explain } from "./lib/api";
import { useChangeEvents, useLockSettings, useSignIn } from "./lib/queries";

/**
 * The window: product list on the left, the open product on the right, status bar below; over
 * it, "Who is working?" while nobody is signed in (in a shop with profiles) or the terminal is
 * locked.
 */
export function App() {
  useChangeEvents();
  const toast = useToast();
  const [section, setSection] = useState<"products" | "sale" | "orders" | "reports">("products");
  const [selected, setSelected] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [settings, setSettings] = useState<SettingsTab | null>(null);
  const [transfer, setTransfer] = useState<"import" | "export" | null>(null);
  const [theme, setTheme] = useState<Theme>(loadTheme);
  const dirty = useRef(false);
  const onDirtyChange = useCallback((d: boolean) => {
    dirty.current = d;
  }, []);

  // Who is working, and what they may do (the core says; the UI only follows).
  const signIn = useSignIn();
  const state = signIn.data ?? null;
  const session = state?.session ?? null;
  const permissions = useMemo(() => permissionsOf(session), [session]);
  const actions = useSignInActions();
  const [switching, setSwitching] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  // The work in the window (the open editor, forms) belongs to the person it was begun by: when
  // someone else signs in, it is remounted (after asking, when something is unsaved).
  const [work, setWork] = useState<{ key: number; of: StaffProfile | null }>({ key: 0, of: null });
  const profile = session?.profile ?? null;
  useEffect(() => {
    if (!profile) return;
    setWork((w) => (w.of === null || w.of.id === profile.id ? { ...w, of: profile } : { key: w.key + 1, of: profile }));
    // The profile's identity decides; a refetched copy of the same person changes nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [profile?.id]);
  const mode: WhoMode | null = !session
    ? null
    : session.shop_has_profiles && profile === null
      ? "start"
      : state?.locked
        ? "locked"
        : switching
          ? "switch"
          : null;

  const lock = useCallback(() => {
    setSwitching(false);
    actions.lock().catch((e: unknown) => toast("error", "Could not lock", explain(e)));
  }, [actions, toast]);
  const lockMinutes = useLockSettings().data?.idle_minutes ?? 0;
  // Also while "Switch person" is open: its "Back to work" needs no PIN.
  useIdleLock(lockMinutes, profile !== null && (mode === null || mode === "switch"), lock);

  const signOut = () => {
    setSigningOut(false);
    setSwitching(false);
    dirty.current = false;
    setWork((w) => ({ key: w.key + 1, of: null }));
    actions.signOut().catch((e: unknown) => toast("error", "Could not sign out", explain(e)));
  };

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
    <PermissionsContext.Provider value={permissions}>
    {/* Nothing shows until it is known whether someone must sign in first. */}
    <div className="app" style={signIn.isPending ? { visibility: "hidden" } : undefined}>
      <header className="titlebar">
        <div className="brand">
          <span className="logo" aria-hidden />
          Stockdesk
        </div>
        <nav className="nav" aria-label="Sections">
          {(["products", "sale", "orders", "reports"] as const).map((s) => (
            <button
              key={s}
              className={`nav-item ${section === s ? "nav-on" : ""}`}
              aria-current={section === s ? "page" : undefined}
              data-testid={`nav-${s}`}
              onClick={() => setSection(s)}
            >
              {{ products: "Products", sale: "New sale", orders: "Orders", reports: "Reports" }[s]}
            </button>
          ))}
        </nav>
        <span className="spacer" />
        <PersonButton session={session} locked={state?.locked ?? false} onSwitch={() => setSwitching(true)} onSetUp={() => setSettings("staff")} />
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
        <button className="btn btn-ghost" onClick={() => setSettings("general")} data-testid="open-settings">
          Settings
        </button>
      </header>
      {/* Both sections stay mounted, so switching to Orders never drops an edit in progress. */}
      <main className="workspace" hidden={section !== "products"} key={`products-${work.key}`}>
        <ProductList selectedId={selected} onOpen={open} onNew={() => setCreating(true)} />
        <Editor productId={selected} onDirtyChange={onDirtyChange} />
      </main>
      {/* Stays mounted too: a sale being rung up survives a look at the orders. */}
      <main className="workspace workspace-single" hidden={section !== "sale"} key={`sale-${work.key}`}>
        <SaleView active={section === "sale"} />
      </main>
      {section === "orders" && (
        <main className="workspace workspace-single" key={`orders-${work.key}`}>
          <OrdersView />
        </main>
      )}
      {section === "reports" && (
        <main className="workspace workspace-single">
          <ReportsView />
        </main>
      )}
      <StatusBar onSettings={() => setSettings("general")} />

      {mode && state && (
        <WhoIsWorking
          key={`${mode}-${profile?.id ?? ""}`}
          mode={mode}
          state={state}
          workOf={work.of}
          hasUnsaved={() => dirty.current}
          onSignedIn={() => setSwitching(false)}
          onSignOut={() => (dirty.current ? setSigningOut(true) : signOut())}
          onLock={lock}
          onCancel={() => setSwitching(false)}
        />
      )}
      <Confirm
        open={signingOut}
        title="Sign out with unsaved changes?"
        body="Your changes to this product are not saved. Signing out discards them."
        confirm="Discard and sign out"
        cancel="Keep editing"
        danger
        onConfirm={signOut}
        onCancel={() => setSigningOut(false)}
      />

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
      <SettingsDialog tab={settings} onTab={setSettings} onClose={() => setSettings(null)} theme={theme} onTheme={setTheme} />
    </div>
    </PermissionsContext.Provider>
  );
}
