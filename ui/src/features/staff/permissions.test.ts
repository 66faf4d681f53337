import { describe, expect, it } from "vitest";
import type { Permission, Session } from "../../bindings";
import { permissionsOf } from "./permissions";

const staffMay: Permission[] = ["sell", "receive_stock", "count_stock", "edit_descriptions", "edit_images"];

function session(over: Partial<Session> = {}): Session {
  return {
    profile: {
      id: "00000000-0000-7000-8000-000000000005",
      name: "Sam",
      role: "staff",
      created_at: "2026-12-01T10:00:00Z",
      created_by: "Olu",
      locked_until: null,
      removed_at: null,
    },
    actor: "Sam",
    shop_has_profiles: true,
    permissions: staffMay,
    withheld: [
      { permission: "edit_prices", needs: "manager" },
      { permission: "delete", needs: "manager" },
      { permission: "manage_staff", needs: "owner" },
    ],
    ...over,
  };
}

describe("what the person signed in may do", () => {
  it("follows the core's lists and says who may do the rest", () => {
    const p = permissionsOf(session());
    expect(p.can("edit_descriptions")).toBe(true);
    expect(p.why("edit_descriptions")).toBeNull();
    expect(p.can("edit_prices")).toBe(false);
    expect(p.why("edit_prices")).toBe("Prices need a manager");
    expect(p.why("delete")).toBe("Deleting and archiving need a manager");
    expect(p.why("manage_staff")).toBe("Managing staff profiles needs the owner");
  });

  it("allows nothing while unknown or signed out", () => {
    const unknown = permissionsOf(null);
    expect(unknown.can("sell")).toBe(false);
    expect(unknown.why("sell")).not.toBeNull();
    const out = permissionsOf(session({ profile: null, permissions: [], actor: "till" }));
    expect(out.can("sell")).toBe(false);
    expect(out.why("edit_prices")).toBe("Sign in first");
  });

  it("in a shop without profiles, allows what the core allows the one person there", () => {
    const all: Permission[] = [...staffMay, "edit_catalog", "edit_prices", "delete", "restore", "adjust_stock", "import", "manage_staff"];
    const p = permissionsOf(session({ profile: null, shop_has_profiles: false, actor: "ana", permissions: all, withheld: [] }));
    for (const perm of all) expect(p.why(perm)).toBeNull();
  });
});
