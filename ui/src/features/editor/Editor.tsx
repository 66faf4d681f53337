import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import * as Tabs from "@radix-ui/react-tabs";
import { useQueryClient } from "@tanstack/react-query";
import { commands, type ConflictReport, type PatchOutcome, type Permission, type Product, type ProductStatus } from "../../bindings";
import { apiError, byField, call, describeError, errorCode, errorOf, explain } from "../../lib/api";
import { writes } from "../../lib/commands";
import { dateTime, timeAgo } from "../../lib/format";
import { invalidateProduct, keys, useCategories, useProduct } from "../../lib/queries";
import { Badge, EmptyState, ErrorState, Spinner } from "../../components/States";
import { useToast } from "../../components/Toasts";
import { ConflictDialog } from "../conflicts/ConflictDialog";
import { pathLabel } from "../conflicts/labels";
import { ReviewDialog, type Preview } from "../conflicts/ReviewDialog";
import { rebase, type Choices } from "../conflicts/resolve";
import { HistoryPanel } from "../history/HistoryPanel";
import { editingOf, editingText, useEditingHeartbeat, useEditors } from "../presence/presence";
import { OwnerOffer } from "../staff/OwnerOffer";
import { PermHint } from "../staff/Gated";
import { usePermissions } from "../staff/permissions";
import { StockPanel } from "../stock/StockPanel";
import { buildPatch, changesSince, draftFrom, type Draft } from "./draft";
import { fileEdits } from "./fileEdits";
import { fileActionsBlocked } from "./files";
import { ImagesTable, type FileActions } from "./ImagesTable";
import { VariantsTable } from "./VariantsTable";

type Props = { productId: string | null; onDirtyChange: (dirty: boolean) => void };

const STATUSES: [ProductStatus, string][] = [
  ["draft", "Draft"],
  ["published", "Published"],
  ["archived", "Archived"],
];

/** What setting a product's status to `s` asks of the person (as the core's rules name it). */
function statusNeeds(s: ProductStatus): Permission {
  return s === "archived" ? "delete" : "edit_catalog";
}

/** Loads the product and hands it to the form; the form keeps its own base version. */
export function Editor({ productId, onDirtyChange }: Props) {
  const product = useProduct(productId);
  if (productId === null)
    return (
      <section className="pane editor-pane editor-empty">
        <EmptyState title="No product open">Pick one from the list (↑ ↓ and Enter work too).</EmptyState>
        <OwnerOffer />
      </section>
    );
  if (product.isPending)
    return (
      <section className="pane editor-pane">
        <Spinner label="Opening product…" />
      </section>
    );
  if (product.isError)
    return (
      <section className="pane editor-pane">
        <ErrorState
          title={errorCode(product.error) === "not_found" ? "This product no longer exists" : "Could not open the product"}
          message={describeError(product.error)}
          onRetry={() => product.refetch()}
        />
      </section>
    );
  return <ProductForm key={productId} latest={product.data} onDirtyChange={onDirtyChange} />;
}

function ProductForm({ latest, onDirtyChange }: { latest: Product; onDirtyChange: (dirty: boolean) => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const categories = useCategories();
  // `base` is the version this edit started from: the patch is computed against it and it is the
  // version sent with the save. It moves only on save, on resolve, or when nothing is typed.
  const [base, setBase] = useState<Product>(latest);
  const [draft, setDraft] = useState<Draft>(() => draftFrom(latest));
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const [conflict, setConflict] = useState<ConflictReport | null>(null);
  const [saving, setSaving] = useState(false);
  const [tab, setTab] = useState("details");
  const perms = usePermissions();

  const built = useMemo(() => buildPatch(base, draft), [base, draft]);
  const dirty = built.changed.length > 0 || Object.keys(built.errors).length > 0;
  useEffect(() => {
    onDirtyChange(dirty);
  }, [dirty, onDirtyChange]);
  useEffect(
    () => () => {
      onDirtyChange(false);
    },
    [onDirtyChange],
  );
  useEditingHeartbeat(base.id, dirty);
  const others = editingOf(useEditors().data, base.id);

  // Someone saved a newer version (or stock moved): follow it if nothing is typed, otherwise say
  // so and keep typing. Other terminals' changes arrive through the change feed within seconds.
  const stale = latest.version > base.version;
  useEffect(() => {
    if (!dirty && latest !== base && latest.version >= base.version) {
      setBase(latest);
      setDraft(draftFrom(latest));
    }
  }, [dirty, latest, base]);
  const theirChanges = useMemo(() => (stale ? changesSince(base, latest) : []), [stale, base, latest]);
  const [reviewing, setReviewing] = useState(false);
  const [preview, setPreview] = useState<Preview>({ state: "loading" });
  // "Review now": the core runs the save's merge against the latest version and rolls it back.
  const patchKey = JSON.stringify(built.patch);
  useEffect(() => {
    if (!reviewing) return;
    let live = true;
    setPreview({ state: "loading" });
    const kind = { type: "patch_product" as const, product_id: base.id, expected_version: base.version, patch: built.patch };
    call(commands.preview(kind))
      .then((o) => {
        if (!live) return;
        setPreview(o.type === "patch" ? { state: "merges", applied: o.value.merge?.applied ?? built.changed } : { state: "failed", message: `unexpected ${o.type}` });
      })
      .catch((e: unknown) => {
        if (!live) return;
        const report = errorOf(e, "conflict")?.details;
        setPreview(
          report
            ? { state: "clashes", clashes: report.conflicts.map((c) => c.path), mergeable: report.mergeable }
            : { state: "failed", message: explain(e) },
        );
      });
    return () => {
      live = false;
    };
    // The dialog is modal: the draft does not change while it is open; `patchKey` stands for it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [reviewing, base.id, base.version, latest?.version, patchKey]);

  const saved = useCallback(
    (outcome: PatchOutcome) => {
      const p = outcome.product;
      setBase(p);
      setDraft(draftFrom(p));
      setServerErrors({});
      setBanner(null);
      qc.setQueryData(keys.product(p.id), p);
      invalidateProduct(qc, p.id);
      const merged = outcome.merge?.merged_with ?? [];
      if (outcome.replayed) {
        toast("success", `Saved as version ${p.version}`, "An earlier attempt had gone through; nothing was saved twice.");
      } else if (merged.length > 0) {
        const who = [...new Set(merged.map((m) => m.actor))].join(", ");
        toast("success", `Saved as version ${p.version}`, `Merged with changes by ${who} made meanwhile.`);
      } else {
        toast("success", `Saved as version ${p.version}`);
      }
    },
    [qc, toast],
  );

  const failed = useCallback((e: unknown) => {
    const api = apiError(e);
    switch (api?.code) {
      case "conflict":
        setConflict(api.details);
        break;
      case "validation":
        setServerErrors(byField(api.details.errors));
        setTab("details");
        break;
      case "not_found":
        setBanner("This product was removed by someone else. Your changes are still here; copy what you need.");
        break;
      case "forbidden":
        // The core refused what the form let through (a role changed meanwhile, say).
        setBanner(
          api.details.reason === "not_signed_in"
            ? "Not saved: nobody is signed in. Sign in; your changes are kept."
            : `Not saved: ${api.message}. Nothing was changed; your changes are kept (revert what you may not change, or ask someone who may).`,
        );
        break;
      case "busy":
        setBanner("The database is busy. Your changes are kept; try saving again.");
        break;
      case "timeout":
      case "storage":
      case "internal":
        // The save may have gone through unheard: saving again sends it under the same op id.
        setBanner(`${explain(e)}. Your changes are kept; saving again cannot save them twice.`);
        break;
      default:
        setBanner(explain(e));
    }
  }, []);

  const submit = useCallback(
    async (d: Draft, from: Product) => {
      const b = buildPatch(from, d);
      if (Object.keys(b.errors).length > 0 || b.changed.length === 0) return;
      setSaving(true);
      setServerErrors({});
      setBanner(null);
      try {
        // Saving the same patch again after an unanswered attempt is a retry (same op id).
        saved(await writes.apply({ type: "patch_product", product_id: from.id, expected_version: from.version, patch: b.patch }));
      } catch (e) {
        failed(e);
      } finally {
        setSaving(false);
      }
    },
    [saved, failed],
  );

  // Adding or replacing files is its own version-checked edit, so it only runs with nothing typed
  // (the buttons are disabled otherwise). A clash cannot be resolved by rebasing the draft (the
  // files are not in it): the form moves to the current version and the banner says to retry.
  const [fileBusy, setFileBusy] = useState(false);
  const fileEdit = useCallback(
    async (run: (from: Product) => Promise<PatchOutcome>) => {
      setFileBusy(true);
      setServerErrors({});
      setBanner(null);
      try {
        saved(await run(base));
      } catch (e) {
        const report = errorOf(e, "conflict")?.details;
        if (report) {
          setBase(report.current);
          setDraft(draftFrom(report.current));
          setBanner(
            `Version ${report.current_version} was saved meanwhile and clashes with this change; the form now shows it. Nothing was added: try again.`,
          );
        } else failed(e);
      } finally {
        setFileBusy(false);
      }
    },
    [base, saved, failed],
  );

  const save = () => void submit(draft, base);
  const files: FileActions = {
    blocked: fileActionsBlocked({ dirty, saving, busy: fileBusy, stale }),
    add: (paths) => void fileEdit((from) => fileEdits.add(from, paths)),
    replace: (imageId, path) => void fileEdit((from) => fileEdits.replace(from, imageId, path)),
    notice: (title, body) => toast("info", title, body),
  };
  const resolve = (choices: Choices) => {
    if (!conflict) return;
    const next = rebase(draft, base, conflict, choices);
    const from = conflict.current;
    setConflict(null);
    setBase(from);
    setDraft(next);
    void submit(next, from);
  };

  // Ctrl+S saves.
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "s") {
        e.preventDefault();
        saveRef.current();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const errors = { ...serverErrors, ...built.errors };
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const category = categories.data?.find((c) => c.id === draft.category_id);
  const fieldError = (f: string) => errors[f] && <div className="field-error" role="alert">{errors[f]}</div>;
  const unknownErrors = Object.entries(serverErrors).filter(
    ([f]) => !["name", "slug", "description", "status", "category_id"].includes(f) && !f.startsWith("variants.") && !f.startsWith("images.") && f !== "file",
  );

  return (
    <section className="pane editor-pane" aria-label="Product editor" data-testid="editor">
      <header className="editor-head">
        <div className="editor-title">
          <h2 data-testid="editor-title">{base.name || "Untitled product"}</h2>
          <div className="muted meta" data-testid="product-version" data-version={base.version}>
            Version {base.version} · updated by {base.updated_by}{" "}
            <span title={dateTime(base.updated_at)}>{timeAgo(base.updated_at)}</span>
          </div>
        </div>
        <span className="spacer" />
        {others.length > 0 && (
          <span className="presence" data-testid="editor-editing" title="They have unsaved changes to this product. Nothing is locked: whoever saves second merges.">
            {editingText(others)}
          </span>
        )}
        {dirty && <Badge tone="dirty">Unsaved changes</Badge>}
        <button className="btn" data-testid="revert" disabled={!dirty || saving} onClick={() => { setDraft(draftFrom(base)); setServerErrors({}); }}>
          Revert
        </button>
        <button
          className="btn btn-primary"
          disabled={!dirty || saving || Object.keys(built.errors).length > 0}
          onClick={save}
          data-testid="save"
          title="Save (Ctrl+S)"
        >
          {saving ? "Saving…" : "Save"}
        </button>
      </header>
      {stale && dirty && (
        <div className="banner banner-info banner-row" data-testid="stale-banner" role="status">
          <span>
            <strong data-testid="stale-who">{latest.updated_by}</strong> saved version {latest.version} while you were editing
            {theirChanges.length > 0 && (
              <>
                {" "}
                and changed <span data-testid="stale-fields">{[...new Set(theirChanges.map((p) => pathLabel(p, latest, base)))].join(", ")}</span>
              </>
            )}
            . Your changes are kept.
          </span>
          <span className="spacer" />
          <button className="btn btn-small" data-testid="review-now" disabled={saving} onClick={() => setReviewing(true)}>
            Review now
          </button>
        </div>
      )}
      {banner && (
        <div className="banner banner-error" role="alert">
          {banner}
        </div>
      )}
      {unknownErrors.map(([f, r]) => (
        <div key={f} className="banner banner-error" role="alert">
          {f}: {r}
        </div>
      ))}

      <Tabs.Root className="tabs" value={tab} onValueChange={setTab}>
        <Tabs.List className="tab-list" aria-label="Editor sections">
          <Tabs.Trigger className="tab" value="details">
            Details
          </Tabs.Trigger>
          <Tabs.Trigger className="tab" value="stock" data-testid="stock-tab">
            Stock
          </Tabs.Trigger>
          <Tabs.Trigger className="tab" value="history" data-testid="history-tab">
            History
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content className="tab-content" value="details">
          <div className="form">
            {!perms.can("edit_catalog") && (
              <div className="field-wide perm-notes">
                <PermHint permission="edit_catalog" />
              </div>
            )}
            <label className="field field-wide">
              <span className="label">Name</span>
              <input
                className={`input ${errors.name ? "invalid" : ""}`}
                data-testid="field-name"
                value={draft.name}
                readOnly={!perms.can("edit_catalog")}
                title={perms.why("edit_catalog") ?? undefined}
                onChange={(e) => set("name", e.target.value)}
              />
              {fieldError("name")}
            </label>
            <label className="field">
              <span className="label">Slug</span>
              <input
                className={`input mono ${errors.slug ? "invalid" : ""}`}
                value={draft.slug}
                readOnly={!perms.can("edit_catalog")}
                title={perms.why("edit_catalog") ?? undefined}
                onChange={(e) => set("slug", e.target.value)}
              />
              {fieldError("slug")}
            </label>
            <label className="field">
              <span className="label">Status</span>
              <select
                className="input"
                value={draft.status}
                disabled={!perms.can("edit_catalog") && !perms.can("delete")}
                title={[perms.why("edit_catalog"), perms.why("delete")].filter(Boolean).join("; ") || undefined}
                onChange={(e) => set("status", e.target.value as ProductStatus)}
              >
                {STATUSES.map(([value, label]) => (
                  <option key={value} value={value} disabled={value !== base.status && !perms.can(statusNeeds(value))}>
                    {label}
                  </option>
                ))}
              </select>
              {fieldError("status")}
            </label>
            <label className="field">
              <span className="label">Category</span>
              <select
                className="input"
                value={draft.category_id ?? ""}
                disabled={!perms.can("edit_catalog")}
                title={perms.why("edit_catalog") ?? undefined}
                onChange={(e) => set("category_id", e.target.value || null)}
              >
                <option value="">No category</option>
                {categories.data?.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
              {fieldError("category_id")}
            </label>
            <label className="field field-wide">
              <span className="label">Description</span>
              <textarea
                className={`input ${errors.description ? "invalid" : ""}`}
                rows={4}
                data-testid="field-description"
                value={draft.description}
                readOnly={!perms.can("edit_descriptions")}
                title={perms.why("edit_descriptions") ?? undefined}
                onChange={(e) => set("description", e.target.value)}
              />
              {fieldError("description")}
            </label>
          </div>
          <VariantsTable draft={draft} category={category} errors={errors} onChange={setDraft} />
          <ImagesTable draft={draft} saved={base.images} errors={errors} onChange={setDraft} files={files} />
        </Tabs.Content>
        <Tabs.Content className="tab-content" value="stock">
          <StockPanel product={base} />
        </Tabs.Content>
        <Tabs.Content className="tab-content" value="history">
          <HistoryPanel product={base} dirty={dirty} onRestored={saved} />
        </Tabs.Content>
      </Tabs.Root>

      {reviewing && stale && dirty && !conflict && (
        <ReviewDialog
          base={base}
          latest={latest}
          theirs={theirChanges}
          mine={built.changed}
          preview={preview}
          saving={saving || Object.keys(built.errors).length > 0}
          onSave={() => {
            setReviewing(false);
            save();
          }}
          onCancel={() => setReviewing(false)}
        />
      )}
      {conflict && (
        <ConflictDialog
          key={`${conflict.current_version}`}
          report={conflict}
          mineBase={base}
          categories={categories.data ?? []}
          onResolve={resolve}
          onCancel={() => setConflict(null)}
        />
      )}
    </section>
  );
}
