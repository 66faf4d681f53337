import { describe, expect, it } from "vitest";
import { CommandError } from "../../lib/api";
import { refusal } from "./refusal";

describe("refusal", () => {
  it("reads each code's details", () => {
    expect(
      refusal(new CommandError({ code: "insufficient_stock", message: "only 1 left", details: { variant_id: "v", requested: 3, available: 1 } })),
    ).toEqual(["Not enough stock for this order any more", "3 wanted, 1 available."]);
    expect(
      refusal(
        new CommandError({
          code: "invalid_state",
          message: "order o is paid; cannot cancel",
          details: { entity: "order", id: "o", state: "paid", action: "cancel" },
        }),
      ),
    ).toEqual(["The order changed meanwhile", "It is paid now."]);
    expect(refusal(new CommandError({ code: "reservation_expired", message: "expired", details: { order_id: "o" } }))[0]).toMatch(/Too late/);
  });

  it("falls back to the code's headline", () => {
    expect(refusal(new CommandError({ code: "busy", message: "the database stayed busy; try again", details: {} }))).toEqual([
      "Could not update the order",
      "The database is busy; try again: the database stayed busy; try again",
    ]);
  });
});
