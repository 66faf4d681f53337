import { describe, expect, it } from "vitest";
import { clash, product, report, V1, V2 } from "../../test/fixtures";
import { buildPatch, draftFrom } from "../editor/draft";
import { allChosen, conflictRows, rebase } from "./resolve";

const base = product();

describe("rebase", () => {
  it("keeps clean changes, applies choices, and keeps their other changes", () => {
    const d = draftFrom(base);
    d.name = "Mine";
    d.description = "Mine too";
    const current = product({ version: 4, name: "Theirs", slug: "their-slug" });
    const r = report(current, [clash({})], ["description"]);

    const mine = rebase(d, base, r, { name: { pick: "mine" } });
    expect(mine).toMatchObject({ name: "Mine", description: "Mine too", slug: "their-slug" });
    expect(buildPatch(current, mine).patch).toEqual({ name: "Mine", description: "Mine too" });

    const theirs = rebase(d, base, r, { name: { pick: "theirs" } });
    expect(theirs.name).toBe("Theirs");
    expect(buildPatch(current, theirs).patch).toEqual({ description: "Mine too" });

    const edited = rebase(d, base, r, { name: { pick: "edit", value: "Both" } });
    expect(edited.name).toBe("Both");
  });

  it("merges stock as a delta on top of theirs", () => {
    const d = draftFrom(base);
    d.variants[0].stock = "15"; // +5 from 10
    d.variants[0].price = "30.00";
    const current = product({
      version: 4,
      variants: base.variants.map((v) => (v.id === V1 ? { ...v, stock_on_hand: 8, price_minor: 2600 } : v)),
    });
    const r = report(current, [
      clash({ path: `variants.${V1}.price_minor`, entity: "variant", entity_id: V1, field: "price_minor", base: 2500, mine: 3000, theirs: 2600 }),
    ]);
    const next = rebase(d, base, r, { [`variants.${V1}.price_minor`]: { pick: "theirs" } });
    expect(next.variants[0]).toMatchObject({ stock: "13", price: "26.00" });
  });

  it("re-creates a variant someone deleted only when I keep my edit", () => {
    const d = draftFrom(base);
    d.variants[1].price = "19.00";
    const current = product({ version: 4, variants: [base.variants[0]] });
    const c = clash({ path: `variants.${V2}`, entity: "variant", entity_id: V2, field: null, kind: "deleted_by_them", base: base.variants[1], mine: { id: V2, price_minor: 1900 }, theirs: null });
    const r = report(current, [c]);
    const kept = rebase(d, base, r, { [c.path]: { pick: "mine" } }, () => "fresh");
    expect(kept.variants.map((v) => [v.id, v.isNew, v.sku, v.price])).toEqual([
      [V1, false, "LS-S", "25.00"],
      ["fresh", true, "LS-M", "19.00"],
    ]);
    const gone = rebase(d, base, r, { [c.path]: { pick: "theirs" } });
    expect(gone.variants.map((v) => v.id)).toEqual([V1]);
  });

  it("keeps an edited variant I deleted only when I take theirs", () => {
    const d = draftFrom(base);
    d.variants = d.variants.filter((v) => v.id !== V2);
    d.deletedVariants = [V2];
    const current = product({ version: 4, variants: [base.variants[0], { ...base.variants[1], price_minor: 999 }] });
    const c = clash({ path: `variants.${V2}`, entity: "variant", entity_id: V2, field: null, kind: "edited_by_them", base: base.variants[1], mine: null, theirs: current.variants[1] });
    const r = report(current, [c]);
    expect(buildPatch(current, rebase(d, base, r, { [c.path]: { pick: "mine" } })).patch.variants?.delete).toEqual([V2]);
    expect(buildPatch(current, rebase(d, base, r, { [c.path]: { pick: "theirs" } })).patch).toEqual({});
  });

  it("keeps new variants I added", () => {
    const d = draftFrom(base);
    d.variants.push({ id: "n", isNew: true, sku: "LS-XL", barcode: "", price: "25.00", currency: "EUR", stock: "1", attributes: {} });
    const current = product({ version: 4, name: "Theirs" });
    const next = rebase(d, base, report(current, []), {});
    expect(next.variants.at(-1)?.sku).toBe("LS-XL");
    expect(next.name).toBe("Theirs");
  });
});

describe("conflictRows", () => {
  it("labels fields, formats values and says who", () => {
    const current = product({ version: 5 });
    const rows = conflictRows(
      report(current, [
        clash({}),
        clash({ path: `variants.${V1}.price_minor`, entity: "variant", entity_id: V1, field: "price_minor", base: 2500, mine: 3000, theirs: 2600 }),
      ]),
      base,
    );
    expect(rows[0]).toMatchObject({ label: "Name", mine: "Mine", theirs: "Theirs", editable: "Mine" });
    expect(rows[0].who?.actor).toBe("ben");
    expect(rows[1].label).toBe("Variant LS-S · Price");
    expect(rows[1].editable).toBe("30.00");
    expect(rows[1].mine).toMatch(/30/);
  });

  it("needs a valid choice for every clash", () => {
    const r = report(product({ version: 4 }), [clash({}), clash({ path: "slug", field: "slug" })]);
    expect(allChosen(r, { name: { pick: "mine" } })).toBe(false);
    expect(allChosen(r, { name: { pick: "mine" }, slug: { pick: "edit", value: "x" } })).toBe(true);
  });
});

describe("a replaced image file", () => {
  const IMG_ID = base.images[0].id;
  const path = `images.${IMG_ID}.blob_key`;
  const current = product({ version: 4, images: [{ ...base.images[0], blob_key: "blobs/ef/01", version: 2 }] });
  const r = report(current, [
    clash({ path, entity: "image", entity_id: IMG_ID, field: "blob_key", kind: "file_replaced_by_them", base: "blobs/ab/cd", mine: "blobs/ab/cd", theirs: "blobs/ef/01" }),
  ]);
  const d = draftFrom(base);
  d.images[0].alt = "Front, in daylight";
  d.name = "Mine";

  it("is a picture row with both files", () => {
    const [row] = conflictRows(r, base);
    expect(row.picture).toMatchObject({ imageId: IMG_ID, mine: "blobs/ab/cd", theirs: "blobs/ef/01" });
    expect(row.editable).toBeNull();
  });

  it("takes their picture and keeps my changes, or drops my changes to that image only", () => {
    const keep = rebase(d, base, r, { [path]: { pick: "theirs" } });
    expect(buildPatch(current, keep).patch).toEqual({ name: "Mine", images: { update: [{ id: IMG_ID, alt: "Front, in daylight" }], delete: [] } });
    expect(keep.images[0].blob_key).toBe("blobs/ef/01");
    const drop = rebase(d, base, r, { [path]: { pick: "drop" } });
    expect(buildPatch(current, drop).patch).toEqual({ name: "Mine" });
    expect(allChosen(r, { [path]: { pick: "drop" } })).toBe(true);
  });
});
