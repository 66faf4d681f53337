import type { ConflictReport, FieldConflict, Product } from "../bindings";

export const V1 = "00000000-0000-7000-8000-000000000001";
export const V2 = "00000000-0000-7000-8000-000000000002";
export const IMG = "00000000-0000-7000-8000-0000000000a1";

export function product(over: Partial<Product> = {}): Product {
  return {
    id: "00000000-0000-7000-8000-00000000000p",
    name: "Linen shirt",
    slug: "linen-shirt",
    description: "Soft.",
    status: "published",
    category_id: null,
    version: 3,
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-20T10:00:00Z",
    updated_by: "ana",
    variants: [
      { id: V1, sku: "LS-S", price_minor: 2500, currency: "EUR", stock_on_hand: 10, attributes: { size: "S" }, position: 0, version: 1 },
      { id: V2, sku: "LS-M", price_minor: 2500, currency: "EUR", stock_on_hand: 4, attributes: { size: "M" }, position: 1, version: 1 },
    ],
    images: [{ id: IMG, blob_key: "blobs/ab/cd", alt: "Front", position: 0, is_thumbnail: true, version: 1 }],
    ...over,
  };
}

export function clash(over: Partial<FieldConflict>): FieldConflict {
  return {
    path: "name",
    entity: "product",
    entity_id: product().id,
    field: "name",
    kind: "both_changed",
    base: "Linen shirt",
    mine: "Mine",
    theirs: "Theirs",
    changed_by: { version: 4, actor: "ben", at: "2026-11-23T10:00:00Z" },
    ...over,
  };
}

export function report(current: Product, conflicts: FieldConflict[], mergeable: string[] = []): ConflictReport {
  return { product_id: current.id, expected_version: 3, current_version: current.version, conflicts, mergeable, current };
}
