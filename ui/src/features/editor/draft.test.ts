import { describe, expect, it } from "vitest";
import { product, V1, V2, IMG } from "../../test/fixtures";
import { buildPatch, changesSince, draftFrom, isDirty, moveImage, newVariant, setThumbnail } from "./draft";

describe("buildPatch", () => {
  it("is empty for an untouched draft", () => {
    const p = product();
    const b = buildPatch(p, draftFrom(p));
    expect(b.patch).toEqual({});
    expect(b.changed).toEqual([]);
    expect(isDirty(p, draftFrom(p))).toBe(false);
  });

  it("sends only the fields that changed", () => {
    const p = product();
    const d = draftFrom(p);
    d.name = "Linen shirt, blue";
    d.variants[1].price = "27.90";
    d.variants[0].attributes = { size: "S" };
    const b = buildPatch(p, d);
    expect(b.patch).toEqual({
      name: "Linen shirt, blue",
      variants: { create: [], update: [{ id: V2, price_minor: 2790 }], delete: [] },
    });
    expect(b.changed).toEqual(["name", `variants.${V2}.price_minor`]);
  });

  it("creates, deletes and reports values that cannot be sent", () => {
    const p = product();
    const d = draftFrom(p);
    d.variants = d.variants.filter((v) => v.id !== V1);
    d.deletedVariants = [V1];
    d.variants.push({ ...newVariant("new-1"), sku: "LS-L", price: "2x", stock: "3" });
    const b = buildPatch(p, d);
    expect(b.patch.variants?.delete).toEqual([V1]);
    expect(b.patch.variants?.create?.[0]).toMatchObject({ id: "new-1", sku: "LS-L", stock_on_hand: 3 });
    expect(b.errors).toEqual({ "variants.new-1.price_minor": "Enter an amount like 12.50" });
  });

  it("sends a barcode as typed, an emptied one as null, and no change for spaces alone", () => {
    const p = product({ variants: product().variants.map((v, i) => (i === 0 ? { ...v, barcode: "4006381333931" } : v)) });
    const d = draftFrom(p);
    expect(d.variants.map((v) => v.barcode)).toEqual(["4006381333931", ""]);
    d.variants[0].barcode = "";
    d.variants[1].barcode = " 96385074 ";
    d.variants.push({ ...newVariant("new-1"), sku: "LS-L", barcode: "  " });
    const b = buildPatch(p, d);
    expect(b.patch.variants?.update).toEqual([
      { id: V1, barcode: null },
      { id: V2, barcode: "96385074" },
    ]);
    expect(b.patch.variants?.create?.[0]).toMatchObject({ id: "new-1", barcode: null });
    const untouched = draftFrom(p);
    untouched.variants[1].barcode = "   ";
    expect(isDirty(p, untouched)).toBe(false);
  });

  it("sends category removal as null", () => {
    const p = product({ category_id: "c1" });
    const d = { ...draftFrom(p), category_id: null };
    expect(buildPatch(p, d).patch).toEqual({ category_id: null });
  });

  it("sends image metadata changes", () => {
    const p = product();
    const d = draftFrom(p);
    d.images[0].alt = "Front view";
    expect(buildPatch(p, d).patch).toEqual({ images: { update: [{ id: IMG, alt: "Front view" }], delete: [] } });
  });
});

describe("image helpers", () => {
  const imgs = [
    { id: "a", blob_key: "a", alt: "", position: 0, is_thumbnail: true },
    { id: "b", blob_key: "b", alt: "", position: 1, is_thumbnail: false },
  ];
  it("moves and renumbers", () => {
    expect(moveImage(imgs, "b", -1).map((i) => [i.id, i.position])).toEqual([
      ["b", 0],
      ["a", 1],
    ]);
    expect(moveImage(imgs, "a", -1)).toBe(imgs);
  });
  it("keeps one thumbnail", () => {
    expect(setThumbnail(imgs, "b").map((i) => i.is_thumbnail)).toEqual([false, true]);
  });
});

describe("changesSince", () => {
  it("names the fields a newer version changed, parts added, removed and files replaced", () => {
    const base = product();
    const newer = product({
      version: 4,
      name: "Linen shirt, new",
      variants: [{ ...product().variants[0], sku: "LS-SMALL" }],
      images: [{ ...product().images[0], blob_key: "blobs/ef/01" }],
    });
    expect(changesSince(base, newer)).toEqual(["name", `variants.${V1}.sku`, `variants.${V2}`, `images.${IMG}.blob_key`]);
    expect(changesSince(base, base)).toEqual([]);
  });
});
