// What the conflict dialog's choices mean for a clash the shop set aside: keep mine, keep
// theirs, or a per-field patch on top of the product as it is now (the core's `Resolution`).
import type { ConflictReport, ProductPatch, Resolution } from "../../bindings";
import { parseCount, parseMoney } from "../../lib/format";
import type { Choices } from "../conflicts/resolve";

const TOP = ["name", "slug", "description", "status", "category_id"] as const;
type Top = (typeof TOP)[number];

/**
 * The resolution of my set-aside edit `patch` for the person's `choices` (an unchosen clash
 * keeps mine). All mine or all theirs are the core's own resolutions; anything else is my patch
 * with each clash as chosen, against `report.current_version`.
 */
export function resolutionFor(patch: ProductPatch, report: ConflictReport, choices: Choices): Resolution {
  const picks = report.conflicts.map((c) => choices[c.path]?.pick ?? "mine");
  if (picks.every((p) => p === "mine")) return { action: "keep_mine" };
  if (picks.every((p) => p === "theirs" || p === "drop")) return { action: "keep_theirs" };
  const out: ProductPatch = structuredClone(patch);
  const variants = out.variants;
  for (const c of report.conflicts) {
    const ch = choices[c.path] ?? { pick: "mine" };
    if (ch.pick === "mine") continue;
    const edit = ch.pick === "edit" ? ch.value : null;
    if ((TOP as readonly string[]).includes(c.path)) {
      const f = c.path as Top;
      if (edit === null || f === "status" || f === "category_id") delete out[f];
      else out[f] = edit;
      continue;
    }
    const [entity, id, field] = c.path.split(".");
    if (entity === "variants" && variants) {
      if (field === undefined) {
        if (edit === null) {
          variants.update = variants.update?.filter((u) => u.id !== id);
          variants.delete = variants.delete?.filter((d) => d !== id);
        }
        continue;
      }
      const u = variants.update?.find((x) => x.id === id) as Record<string, unknown> | undefined;
      if (!u) continue;
      // An emptied barcode is removed (null), not left out.
      if (field === "barcode" && edit !== null) {
        u[field] = edit.trim() === "" ? null : edit.trim();
        continue;
      }
      const value = edit === null ? undefined : field === "price_minor" ? parseMoney(edit) : field === "stock_on_hand" ? parseCount(edit) : field === "sku" || field === "currency" ? edit.trim() : undefined;
      if (value === undefined || value === null) delete u[field];
      else u[field] = value;
    } else if (entity === "images" && out.images) {
      // Images clash as a whole or by their file: theirs, or drop my change to the image.
      out.images.update = out.images.update?.filter((u) => u.id !== id);
      out.images.delete = out.images.delete?.filter((d) => d !== id);
    }
  }
  return { action: "patch", expected_version: report.current_version, patch: out };
}
