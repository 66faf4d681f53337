// The editor's working copy of a product and the patch it turns into. Pure functions only: the
// conflict resolver and the tests use them without React.
import type {
  Image,
  ImageUpdate,
  NewVariant,
  Product,
  ProductPatch,
  ProductStatus,
  Variant,
  VariantUpdate,
} from "../../bindings";
import { minorToText, parseCount, parseMoney } from "../../lib/format";

export type VariantDraft = {
  id: string;
  /** Added in this editor and not saved yet. */
  isNew: boolean;
  sku: string;
  /** As typed; "" for none. The core checks it and stores its digits. */
  barcode: string;
  /** As typed ("12.50"). */
  price: string;
  currency: string;
  /** As typed ("7"). */
  stock: string;
  attributes: Record<string, string>;
};

export type ImageDraft = { id: string; blob_key: string; alt: string; position: number; is_thumbnail: boolean };

export type Draft = {
  name: string;
  slug: string;
  description: string;
  status: ProductStatus;
  category_id: string | null;
  variants: VariantDraft[];
  deletedVariants: string[];
  images: ImageDraft[];
  deletedImages: string[];
};

export const PRODUCT_FIELDS = ["name", "slug", "description", "status", "category_id"] as const;
export type ProductField = (typeof PRODUCT_FIELDS)[number];

export function variantDraft(v: Variant): VariantDraft {
  return {
    id: v.id,
    isNew: false,
    sku: v.sku,
    barcode: v.barcode ?? "",
    price: minorToText(v.price_minor),
    currency: v.currency,
    stock: String(v.stock_on_hand),
    attributes: { ...(v.attributes as Record<string, string>) },
  };
}

export function imageDraft(i: Image): ImageDraft {
  return { id: i.id, blob_key: i.blob_key, alt: i.alt, position: i.position, is_thumbnail: i.is_thumbnail };
}

export function draftFrom(p: Product): Draft {
  return {
    name: p.name,
    slug: p.slug,
    description: p.description,
    status: p.status,
    category_id: p.category_id ?? null,
    variants: [...p.variants].sort((a, b) => a.position - b.position).map(variantDraft),
    deletedVariants: [],
    images: [...p.images].sort((a, b) => a.position - b.position).map(imageDraft),
    deletedImages: [],
  };
}

export function newVariant(id: string, currency = "EUR"): VariantDraft {
  return { id, isNew: true, sku: "", barcode: "", price: "0.00", currency, stock: "0", attributes: {} };
}

export function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).filter((k) => a[k] !== "");
  const kb = Object.keys(b).filter((k) => b[k] !== "");
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

function cleanAttributes(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== ""));
}

export type BuiltPatch = {
  patch: ProductPatch;
  /** Values that cannot be sent as typed (path → reason), same paths as the core's errors. */
  errors: Record<string, string>;
  /** Paths this edit changes. */
  changed: string[];
};

/** The patch that turns `base` into `draft`: only what the person changed. */
export function buildPatch(base: Product, d: Draft): BuiltPatch {
  const patch: ProductPatch = {};
  const errors: Record<string, string> = {};
  const changed: string[] = [];
  for (const f of ["name", "slug", "description", "status"] as const) {
    if (d[f] !== base[f]) {
      (patch as Record<string, unknown>)[f] = d[f];
      changed.push(f);
    }
  }
  if ((d.category_id ?? null) !== (base.category_id ?? null)) {
    patch.category_id = d.category_id;
    changed.push("category_id");
  }

  const baseVariants = new Map(base.variants.map((v) => [v.id, v]));
  const create: NewVariant[] = [];
  const update: VariantUpdate[] = [];
  for (const v of d.variants) {
    const p = (f: string) => `variants.${v.id}.${f}`;
    const price = parseMoney(v.price);
    if (price === null) errors[p("price_minor")] = "Enter an amount like 12.50";
    const stock = parseCount(v.stock);
    if (stock === null) errors[p("stock_on_hand")] = "Enter a whole number";
    const b = baseVariants.get(v.id);
    if (v.isNew || !b) {
      create.push({
        id: v.id,
        sku: v.sku,
        barcode: barcodeOf(v),
        price_minor: price ?? 0,
        currency: v.currency,
        stock_on_hand: stock ?? 0,
        attributes: cleanAttributes(v.attributes),
      });
      changed.push(`variants.${v.id}`);
      continue;
    }
    const u: VariantUpdate = { id: v.id };
    let any = false;
    const set = <K extends keyof typeof u>(k: K, val: (typeof u)[K]) => {
      u[k] = val;
      any = true;
      changed.push(p(k as string));
    };
    if (v.sku !== b.sku) set("sku", v.sku);
    if (barcodeOf(v) !== (b.barcode ?? null)) set("barcode", barcodeOf(v));
    if (price !== null && price !== b.price_minor) set("price_minor", price);
    if (v.currency !== b.currency) set("currency", v.currency);
    if (stock !== null && stock !== b.stock_on_hand) set("stock_on_hand", stock);
    if (!sameAttributes(v.attributes, b.attributes as Record<string, string>))
      set("attributes", cleanAttributes(v.attributes));
    if (any) update.push(u);
  }
  const del = d.deletedVariants.filter((id) => baseVariants.has(id));
  del.forEach((id) => changed.push(`variants.${id}`));
  if (create.length || update.length || del.length) patch.variants = { create, update, delete: del };

  const baseImages = new Map(base.images.map((i) => [i.id, i]));
  const imgUpdate: ImageUpdate[] = [];
  for (const i of d.images) {
    const b = baseImages.get(i.id);
    if (!b) continue;
    const u: ImageUpdate = { id: i.id };
    for (const f of ["alt", "position", "is_thumbnail"] as const) {
      if (i[f] !== b[f]) {
        (u as Record<string, unknown>)[f] = i[f];
        changed.push(`images.${i.id}.${f}`);
      }
    }
    if (Object.keys(u).length > 1) imgUpdate.push(u);
  }
  const imgDel = d.deletedImages.filter((id) => baseImages.has(id));
  imgDel.forEach((id) => changed.push(`images.${id}`));
  if (imgUpdate.length || imgDel.length) patch.images = { update: imgUpdate, delete: imgDel };

  return { patch, errors, changed };
}

/**
 * What a newer version changed since `base`, as the same paths a patch uses (`name`,
 * `variants.<id>.sku`, `images.<id>` for an image added or removed, `images.<id>.blob_key` for
 * a replaced file). For telling the person what someone else did; the core's merge decides what
 * clashes.
 */
export function changesSince(base: Product, newer: Product): string[] {
  const changed = buildPatch(base, draftFrom(newer)).changed;
  const newerVariants = new Set(newer.variants.map((v) => v.id));
  for (const v of base.variants) if (!newerVariants.has(v.id)) changed.push(`variants.${v.id}`);
  const baseImages = new Map(base.images.map((i) => [i.id, i]));
  const newerImages = new Set(newer.images.map((i) => i.id));
  for (const i of base.images) if (!newerImages.has(i.id)) changed.push(`images.${i.id}`);
  for (const i of newer.images) {
    const b = baseImages.get(i.id);
    if (!b) changed.push(`images.${i.id}`);
    else if (b.blob_key !== i.blob_key) changed.push(`images.${i.id}.blob_key`);
  }
  return changed;
}

/** The barcode field as sent: null when left empty (the core drops spaces and checks the rest). */
export function barcodeOf(v: VariantDraft): string | null {
  const typed = v.barcode.trim();
  return typed === "" ? null : typed;
}

export function isDirty(base: Product, d: Draft): boolean {
  const built = buildPatch(base, d);
  return built.changed.length > 0 || Object.keys(built.errors).length > 0;
}

/** Moves image `id` one place up or down and renumbers positions 0..n. */
export function moveImage(images: ImageDraft[], id: string, delta: -1 | 1): ImageDraft[] {
  const list = [...images];
  const i = list.findIndex((x) => x.id === id);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= list.length) return images;
  [list[i], list[j]] = [list[j], list[i]];
  return list.map((x, k) => ({ ...x, position: k }));
}

export function setThumbnail(images: ImageDraft[], id: string): ImageDraft[] {
  return images.map((x) => ({ ...x, is_thumbnail: x.id === id }));
}
