import type { Product } from "../../bindings";

const NAMES: Record<string, string> = {
  name: "name",
  slug: "slug",
  description: "description",
  status: "status",
  category_id: "category",
  sku: "SKU",
  barcode: "barcode",
  price_minor: "price",
  currency: "currency",
  stock_on_hand: "stock",
  attributes: "attributes",
  position: "position",
  alt: "alt text",
  is_thumbnail: "thumbnail",
  blob_key: "picture",
};

/** `variants.<id>.price_minor` → "variant TEE-M price". */
export function pathLabel(path: string, ...products: Product[]): string {
  const [head, id, field] = path.split(".");
  if (head === "variants" && id) {
    const v = products.flatMap((p) => p.variants).find((x) => x.id === id);
    const name = v ? `variant ${v.sku}` : "new variant";
    return field ? `${name} ${NAMES[field] ?? field}` : name;
  }
  if (head === "images" && id) {
    const i = products.flatMap((p) => p.images).find((x) => x.id === id);
    const name = i ? `image ${i.position + 1}` : "image";
    return field ? `${name} ${NAMES[field] ?? field}` : name;
  }
  return NAMES[head] ?? path;
}
