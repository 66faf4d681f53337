import { describe, expect, it } from "vitest";
import type { Editing } from "../../bindings";
import { editingOf, editingText } from "./presence";

const P = "00000000-0000-7000-8000-00000000000p";
const at = (since: string, actor: string, product_id = P): Editing => ({ product_id, actor, since, seen_at: since });

describe("presence", () => {
  it("names each person editing a product once, first come first", () => {
    const editors = [at("2026-12-02T10:05:00Z", "cem"), at("2026-12-02T10:00:00Z", "bea"), at("2026-12-02T10:06:00Z", "bea"), at("2026-12-02T10:00:00Z", "dan", "other")];
    expect(editingOf(editors, P)).toEqual(["bea", "cem"]);
    expect(editingOf(undefined, P)).toEqual([]);
    expect(editingText(["bea"])).toBe("bea is editing");
    expect(editingText(["bea", "cem"])).toBe("bea, cem are editing");
  });
});
