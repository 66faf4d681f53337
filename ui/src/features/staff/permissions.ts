// What the signed-in person may do, as the core says (`session().permissions`, and for what they
// may not, the least role that may: `withheld`). The UI disables those controls and says why; it
// never decides a rule itself, and the core still refuses anything let through (`forbidden`).
import { createContext, useContext } from "react";
import type { Permission, Role, Session } from "../../bindings";

/** The sentence a disabled control shows, given who may ("a manager"). */
const WHY = {
  sell: (who) => `Selling needs ${who}`,
  receive_stock: (who) => `Receiving stock needs ${who}`,
  count_stock: (who) => `Counting stock needs ${who}`,
  edit_descriptions: (who) => `Descriptions need ${who}`,
  edit_images: (who) => `Adding or replacing image files needs ${who}`,
  edit_catalog: (who) => `Names, status, categories, SKUs and new variants need ${who}`,
  edit_prices: (who) => `Prices need ${who}`,
  delete: (who) => `Deleting and archiving need ${who}`,
  restore: (who) => `Restoring old versions needs ${who}`,
  adjust_stock: (who) => `Adjusting stock needs ${who}`,
  import: (who) => `Importing products needs ${who}`,
  manage_staff: (who) => `Managing staff profiles needs ${who}`,
  manage_allotments: (who) => `Allotting stock to tills needs ${who}`,
} satisfies Record<Permission, (who: string) => string>;

export const ROLE_LABEL = { staff: "Staff", manager: "Manager", owner: "Owner" } satisfies Record<Role, string>;

/** "a manager", "the owner". */
export function someone(role: Role): string {
  return role === "owner" ? "the owner" : `a ${role}`;
}

export type Permissions = {
  can: (p: Permission) => boolean;
  /** Why the person may not do `p` ("Prices need a manager"), or null when they may. */
  why: (p: Permission) => string | null;
};

/** The permissions of `session`; nothing is allowed while it is not known. */
export function permissionsOf(session: Session | null | undefined): Permissions {
  if (!session) return { can: () => false, why: () => "Waiting for who is signed in" };
  const allowed = new Set(session.permissions);
  const needs = new Map(session.withheld.map((w) => [w.permission, w.needs]));
  const signedOut = session.shop_has_profiles && session.profile === null;
  return {
    can: (p) => allowed.has(p),
    why: (p) => {
      if (allowed.has(p)) return null;
      if (signedOut) return "Sign in first";
      const role = needs.get(p);
      return role ? WHY[p](someone(role)) : "Not allowed for you";
    },
  };
}

/** The signed-in person's permissions, provided by the app around everything it shows. */
export const PermissionsContext = createContext<Permissions>(permissionsOf(null));

export function usePermissions(): Permissions {
  return useContext(PermissionsContext);
}
