// Writes: the outcome value each kind gives (typed; checked by tsc, which compiles the tests), and
// which op id each attempt carries.
import { describe, expect, expectTypeOf, it } from "vitest";
import { validate, version } from "uuid";
import type { ApiError, Applied, CommandKind, ExtendOutcome, Order, PatchOutcome, PaymentOutcome, Product, StockChange } from "../bindings";
import { product } from "../test/fixtures";
import { CommandError } from "./api";
import { applyCommand, Intents, OUTCOME_OF, outcomeValue, type OutcomeOf, type Send } from "./commands";

const P = product();
const patched: PatchOutcome = { product: { ...P, version: 4 }, merge: null, replayed: false };
const rename: CommandKind = { type: "patch_product", product_id: P.id, expected_version: 3, patch: { name: "New" } };

/** A backend that answers with `answers` in turn (an ApiError is a refusal) and records op ids. */
function backend(...answers: (PatchOutcome | ApiError | Error)[]) {
  const sent: { opId: string; kind: CommandKind }[] = [];
  const send: Send = async (opId, kind) => {
    sent.push({ opId, kind });
    const a = answers.shift();
    if (a === undefined) throw new Error("no answer left");
    if (a instanceof Error) throw a;
    if ("code" in a) throw new CommandError(a);
    const applied: Applied = { op_id: opId, replayed: false, outcome: { type: "patch", value: a } };
    return applied;
  };
  let n = 0;
  return { send, sent, intents: new Intents(send, () => `op-${++n}`) };
}

const lost: ApiError = { code: "internal", message: "the call did not come back", details: {} };
const clash: ApiError = { code: "not_found", message: "product gone", details: { entity: "product", id: P.id } };

describe("outcomes", () => {
  it("types each kind's answer", () => {
    expectTypeOf<OutcomeOf<"patch_product">>().toEqualTypeOf<PatchOutcome>();
    expectTypeOf<OutcomeOf<"restore_product" | "add_images" | "replace_image_file">>().toEqualTypeOf<PatchOutcome>();
    expectTypeOf<OutcomeOf<"create_product">>().toEqualTypeOf<Product>();
    expectTypeOf<OutcomeOf<"pay_order">>().toEqualTypeOf<PaymentOutcome>();
    expectTypeOf<OutcomeOf<"extend_order">>().toEqualTypeOf<ExtendOutcome>();
    expectTypeOf<OutcomeOf<"cancel_order">>().toEqualTypeOf<Order>();
    expectTypeOf<OutcomeOf<"receive_stock" | "adjust_stock" | "count_stock">>().toEqualTypeOf<StockChange>();
    expectTypeOf<keyof typeof OUTCOME_OF>().toEqualTypeOf<CommandKind["type"]>();
  });

  it("returns the value of the expected variant", async () => {
    const { send } = backend(patched);
    const out = await applyCommand("op", rename, send);
    expectTypeOf(out).toEqualTypeOf<PatchOutcome>();
    expect(out.product.version).toBe(4);
  });

  it("fails as internal when the core answers with another variant", async () => {
    const applied: Applied = { op_id: "op", replayed: false, outcome: { type: "seed", value: { categories: 1, products: 0, variants: 0, images: 0 } } };
    expect(() => outcomeValue(applied, "patch")).toThrowError(/expected a patch outcome, got seed/);
    try {
      outcomeValue(applied, "patch");
    } catch (e) {
      expect(e instanceof CommandError && e.api.code).toBe("internal");
    }
  });

  it("accepts only whole commands", () => {
    const intents = backend().intents;
    // @ts-expect-error a pay_order needs its order_id
    void intents.apply({ type: "pay_order" }).catch(() => {});
    // @ts-expect-error no such kind
    void intents.apply({ type: "pay_everything" }).catch(() => {});
  });
});

describe("op ids", () => {
  it("are UUIDv7 by default", () => {
    const ids: string[] = [];
    const intents = new Intents(async (opId) => {
      ids.push(opId);
      return { op_id: opId, replayed: false, outcome: { type: "patch", value: patched } };
    });
    return Promise.all([intents.apply(rename), intents.apply(rename)]).then(() => {
      expect(ids.every((id) => validate(id) && version(id) === 7)).toBe(true);
      expect(ids[0]).not.toBe(ids[1]);
    });
  });

  it("a new action is a new op id, even for the same command", async () => {
    const b = backend(patched, patched);
    await b.intents.apply(rename);
    await b.intents.apply(rename);
    expect(b.sent.map((s) => s.opId)).toEqual(["op-1", "op-2"]);
  });

  it("a retry after an unanswered attempt carries the same op id", async () => {
    const b = backend(lost, new Error("IPC down"), patched, patched);
    await expect(b.intents.apply(rename)).rejects.toThrow();
    await expect(b.intents.apply(rename)).rejects.toThrow();
    await b.intents.apply(rename);
    // …and once answered, the next save is a new action.
    await b.intents.apply(rename);
    expect(b.sent.map((s) => s.opId)).toEqual(["op-1", "op-1", "op-1", "op-2"]);
  });

  it("a changed command after an unanswered attempt is a new action", async () => {
    const b = backend(lost, patched);
    await expect(b.intents.apply(rename)).rejects.toThrow();
    await b.intents.apply({ ...rename, patch: { name: "Newer" } });
    expect(b.sent.map((s) => s.opId)).toEqual(["op-1", "op-2"]);
  });

  it("after a refusal, trying again is a new action", async () => {
    const b = backend(clash, patched);
    await expect(b.intents.apply(rename)).rejects.toThrow("product gone");
    await b.intents.apply(rename);
    expect(b.sent.map((s) => s.opId)).toEqual(["op-1", "op-2"]);
  });
});
