// Resolving a conflict report: which clashes to show, and the draft that results from the
// person's choices. Pure functions; the dialog only renders them.
import type { Category, ConflictReport, FieldConflict, Product, Value, Variant } from "../../bindings";
import { formatMoney, minorToText, parseCount, parseMoney } from "../../lib/format";
import {
  draftFrom,
  sameAttributes,
  type Draft,
  type ProductField,
  type ImageDraft,
  type VariantDraft,
} from "../editor/draft";

/**
 * A side per clash. An image whose file someone else replaced (`images.<id>.blob_key`) offers
 * "theirs" (their picture, my other changes to the image kept) or "drop" (my changes to that
 * image let go): their file stays either way, as the file is not part of an edit.
 */
export type Choice = { pick: "mine" } | { pick: "theirs" } | { pick: "edit"; value: string } | { pick: "drop" };
export type Choices = Record<string, Choice>;

export type ConflictRow = {
  path: string;
  /** "Name", "Variant TEE-M · Price", "Image 2". */
  label: string;
  kind: FieldConflict["kind"];
  base: string;
  mine: string;
  theirs: string;
  /** The value to start from when the person chooses to edit; null when editing makes no sense. */
  editable: string | null;
  who: FieldConflict["changed_by"];
  /** For a replaced image file: the image and both files' keys (mine is the one I edited). */
  picture: { imageId: string; mine: string; theirs: string; mineThumb: string | null; theirsThumb: string | null } | null;
};

/** A clash about an image's file, replaced by someone else while I edited the image. */
export function isPictureClash(c: FieldConflict): boolean {
  return c.kind === "file_replaced_by_them" || (c.entity === "image" && c.field === "blob_key");
}

const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  slug: "Slug",
  description: "Description",
  status: "Status",
  category_id: "Category",
  sku: "SKU",
  barcode: "Barcode",
  price_minor: "Price",
  currency: "Currency",
  attributes: "Attributes",
  position: "Position",
  alt: "Alt text",
  is_thumbnail: "Thumbnail",
  blob_key: "Picture",
};

function variantName(id: string, ...products: (Product | undefined)[]): string {
  for (const p of products) {
    const v = p?.variants.find((x) => x.id === id);
    if (v) return v.sku || "(no SKU)";
  }
  return "(variant)";
}

function imageName(id: string, ...products: (Product | undefined)[]): string {
  for (const p of products) {
    const i = p?.images.find((x) => x.id === id);
    if (i) return i.alt ? `“${i.alt}”` : `#${i.position + 1}`;
  }
  return "";
}

/** Shows a JSON value from a report the way the editor shows it. */
export function showValue(field: string | null, value: Value, ctx: { currency?: string; categories?: Category[] }): string {
  if (value === null) return "—";
  switch (field) {
    case "price_minor":
      return typeof value === "number" ? formatMoney(value, ctx.currency) : JSON.stringify(value);
    case "category_id":
      return ctx.categories?.find((c) => c.id === value)?.name ?? "(unknown category)";
    case "attributes": {
      if (!isObject(value)) return JSON.stringify(value);
      const e = Object.entries(value);
      return e.length ? e.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ") : "none";
    }
    case "is_thumbnail":
      return value ? "yes" : "no";
    case null: {
      // A whole variant or image (or the edit made to it).
      if (!isObject(value)) return "edited";
      const bits: string[] = [];
      if (typeof value.sku === "string") bits.push(value.sku);
      if (typeof value.price_minor === "number")
        bits.push(formatMoney(value.price_minor, typeof value.currency === "string" ? value.currency : ctx.currency));
      if (typeof value.alt === "string") bits.push(`alt “${value.alt}”`);
      return bits.length ? bits.join(" · ") : "edited";
    }
    default:
      return typeof value === "string" ? (value === "" ? "(empty)" : value) : JSON.stringify(value);
  }
}

function isObject(v: Value): v is { [key in string]: Value } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function editStart(field: string | null, value: Value): string | null {
  switch (field) {
    case "name":
    case "slug":
    case "description":
    case "sku":
    case "barcode":
    case "currency":
    case "alt":
      return typeof value === "string" ? value : "";
    case "price_minor":
      return typeof value === "number" ? minorToText(value) : "";
    default:
      return null;
  }
}

export function conflictRows(report: ConflictReport, mineBase: Product, categories: Category[] = []): ConflictRow[] {
  const cur = report.current;
  return report.conflicts.map((c) => {
    let label = FIELD_LABELS[c.path] ?? c.path;
    let currency: string | undefined;
    if (c.entity === "variant") {
      const name = variantName(c.entity_id, cur, mineBase);
      currency = (cur.variants.find((v) => v.id === c.entity_id) ?? mineBase.variants.find((v) => v.id === c.entity_id))
        ?.currency;
      label = c.field ? `Variant ${name} · ${FIELD_LABELS[c.field] ?? c.field}` : `Variant ${name}`;
    } else if (c.entity === "image") {
      const name = imageName(c.entity_id, cur, mineBase);
      label = c.field ? `Image ${name} · ${FIELD_LABELS[c.field] ?? c.field}` : `Image ${name}`;
    }
    const ctx = { currency, categories };
    const whole = c.field === null;
    const picture =
      isPictureClash(c) && typeof c.mine === "string" && typeof c.theirs === "string"
        ? {
            imageId: c.entity_id,
            mine: c.mine,
            theirs: c.theirs,
            mineThumb: mineBase.images.find((i) => i.id === c.entity_id)?.thumb_key ?? null,
            theirsThumb: cur.images.find((i) => i.id === c.entity_id)?.thumb_key ?? null,
          }
        : null;
    return {
      path: c.path,
      label,
      kind: c.kind,
      base: showValue(c.field, c.base, ctx),
      mine: whole && c.kind === "edited_by_them" ? "Deleted" : showValue(c.field, c.mine, ctx),
      theirs: whole && c.kind === "deleted_by_them" ? "Deleted" : showValue(c.field, c.theirs, ctx),
      editable: whole ? null : editStart(c.field, c.mine),
      who: c.changed_by,
      picture,
    };
  });
}

export function allChosen(report: ConflictReport, choices: Choices): boolean {
  return report.conflicts.every((c) => {
    const ch = choices[c.path];
    return ch !== undefined && (ch.pick !== "edit" || editError(c, ch.value) === null);
  });
}

/** Why an edited value cannot be used, or null. */
export function editError(c: FieldConflict, value: string): string | null {
  if (c.field === "price_minor" && parseMoney(value) === null) return "Enter an amount like 12.50";
  return null;
}

function variantText(field: "sku" | "barcode" | "currency", v: Variant): string {
  return field === "barcode" ? (v.barcode ?? "") : v[field];
}

/**
 * The draft to resubmit against `report.current`: what someone else committed, plus every change
 * of mine that merges cleanly, plus the chosen side (or edited value) of each clash. Stock figures
 * keep my change as a delta on top of theirs. Nothing typed is dropped unless the person chose so.
 */
export function rebase(
  draft: Draft,
  mineBase: Product,
  report: ConflictReport,
  choices: Choices,
  newId: () => string = () => crypto.randomUUID(),
): Draft {
  const cur = report.current;
  const clash = new Map(report.conflicts.map((c) => [c.path, c]));
  const next = draftFrom(cur);
  const pick = <T,>(path: string, mine: T, theirs: T, fromText: (s: string) => T): T => {
    if (!clash.has(path)) return mine;
    const ch = choices[path] ?? { pick: "mine" };
    if (ch.pick === "theirs" || ch.pick === "drop") return theirs;
    if (ch.pick === "edit") return fromText(ch.value);
    return mine;
  };

  // Product fields: theirs where I changed nothing, else mine or the chosen side. Status and
  // category have no edit choice (see `editStart`), so an edit there keeps mine.
  const field = <T,>(path: ProductField, mine: T, base: T, theirs: T, fromText: (s: string) => T = () => mine): T =>
    mine === base ? theirs : pick(path, mine, theirs, fromText);
  const text = (s: string) => s;
  next.name = field("name", draft.name, mineBase.name, cur.name, text);
  next.slug = field("slug", draft.slug, mineBase.slug, cur.slug, text);
  next.description = field("description", draft.description, mineBase.description, cur.description, text);
  next.status = field("status", draft.status, mineBase.status, cur.status);
  next.category_id = field("category_id", draft.category_id, mineBase.category_id ?? null, cur.category_id ?? null);

  // Variants: mine that still exist get my changed fields; ones deleted meanwhile come back as new
  // variants only if I chose to keep my edit.
  const baseV = new Map(mineBase.variants.map((v) => [v.id, v]));
  const curV = new Map(cur.variants.map((v) => [v.id, v]));
  const outV = new Map(next.variants.map((v) => [v.id, v]));
  const revived: VariantDraft[] = [];
  for (const v of draft.variants) {
    if (v.isNew) continue;
    const b = baseV.get(v.id);
    const c = curV.get(v.id);
    if (!b) continue;
    if (!c) {
      if (variantEdited(v, b) && clash.has(`variants.${v.id}`) && choices[`variants.${v.id}`]?.pick === "mine")
        revived.push({ ...v, id: newId(), isNew: true });
      continue;
    }
    const o = outV.get(v.id)!;
    const p = (f: string) => `variants.${v.id}.${f}`;
    for (const f of ["sku", "barcode", "currency"] as const) {
      if (v[f] !== variantText(f, b)) o[f] = pick(p(f), v[f], variantText(f, c), (s) => s);
    }
    const price = parseMoney(v.price);
    if (price === null) o.price = v.price;
    else if (price !== b.price_minor)
      o.price = pick(p("price_minor"), v.price, minorToText(c.price_minor), (s) => minorToText(parseMoney(s) ?? 0));
    const stock = parseCount(v.stock);
    if (stock === null) o.stock = v.stock;
    else if (stock !== b.stock_on_hand) o.stock = String(c.stock_on_hand + (stock - b.stock_on_hand));
    if (!sameAttributes(v.attributes, b.attributes))
      o.attributes = pick(p("attributes"), { ...v.attributes }, { ...c.attributes }, () => ({
        ...v.attributes,
      }));
  }
  for (const id of draft.deletedVariants) {
    if (!curV.has(id)) continue;
    const keepTheirs = clash.has(`variants.${id}`) && choices[`variants.${id}`]?.pick === "theirs";
    if (!keepTheirs) {
      next.variants = next.variants.filter((v) => v.id !== id);
      next.deletedVariants.push(id);
    }
  }
  next.variants.push(...revived, ...draft.variants.filter((v) => v.isNew));

  // Images: metadata only (files come with the images feature).
  const baseI = new Map(mineBase.images.map((i) => [i.id, i]));
  const curI = new Map(cur.images.map((i) => [i.id, i]));
  const outI = new Map(next.images.map((i) => [i.id, i]));
  for (const i of draft.images) {
    const b = baseI.get(i.id);
    const c = curI.get(i.id);
    const o = outI.get(i.id);
    if (!b || !c || !o) continue;
    const p = (f: string) => `images.${i.id}.${f}`;
    // Their file replaced the one I edited: "drop" lets go of my changes to this image.
    if (clash.has(p("blob_key")) && choices[p("blob_key")]?.pick === "drop") continue;
    if (i.alt !== b.alt) o.alt = pick(p("alt"), i.alt, c.alt, (s) => s);
    if (i.position !== b.position) o.position = pick(p("position"), i.position, c.position, Number);
    if (i.is_thumbnail !== b.is_thumbnail) o.is_thumbnail = pick(p("is_thumbnail"), i.is_thumbnail, c.is_thumbnail, Boolean);
  }
  for (const id of draft.deletedImages) {
    if (!curI.has(id)) continue;
    const keepTheirs = clash.has(`images.${id}`) && choices[`images.${id}`]?.pick === "theirs";
    if (!keepTheirs) {
      next.images = next.images.filter((i) => i.id !== id);
      next.deletedImages.push(id);
    }
  }
  next.images.sort((a: ImageDraft, b: ImageDraft) => a.position - b.position);
  return next;
}

function variantEdited(v: VariantDraft, b: Variant): boolean {
  return (
    v.sku !== b.sku ||
    v.barcode !== (b.barcode ?? "") ||
    parseMoney(v.price) !== b.price_minor ||
    v.currency !== b.currency ||
    parseCount(v.stock) !== b.stock_on_hand ||
    !sameAttributes(v.attributes, b.attributes)
  );
}
