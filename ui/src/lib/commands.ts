// Every write the UI makes: a `CommandKind` applied by the one `apply` command under an op id the
// UI chooses per user intent, answered with the value of the outcome that kind gives, typed by
// the kind (a `patch_product` gives a `PatchOutcome`, a `pay_order` a `PaymentOutcome`, …).
import { v7 as uuidv7 } from "uuid";
import { commands, type Applied, type CommandKind, type Outcome } from "../bindings";
import { call, internal, outcomeUnsure } from "./api";

export type OutcomeType = Outcome["type"];
/** Outcome type → its value's type (`{patch: PatchOutcome, payment: PaymentOutcome, …}`). */
export type OutcomeValues = { [O in Outcome as O["type"]]: O["value"] };
export type OutcomeValue<T extends OutcomeType> = OutcomeValues[T];

/**
 * The outcome each kind of command gives, as the core's `commands::run` makes them. A kind added
 * in Rust fails `tsc` here until it has one; a wrong entry fails at run time with `internal`.
 */
export const OUTCOME_OF = {
  create_category: "category",
  create_product: "product",
  patch_product: "patch",
  restore_product: "patch",
  add_images: "patch",
  replace_image_file: "patch",
  create_order: "order",
  pay_order: "payment",
  cancel_order: "order",
  extend_order: "extension",
  receive_stock: "stock",
  adjust_stock: "stock",
  count_stock: "stock",
  seed: "seed",
  add_staff: "staff",
  remove_staff: "staff",
  import_product: "import",
  allot: "allotments",
  revoke_allotments: "allotments",
  set_allotment_policy: "allotment_policy",
  set_sell_anyway: "sell_anyway",
  resolve_exception: "exception",
  till_order: "order",
  till_pay: "payment",
  till_cancel: "order",
} satisfies Record<CommandKind["type"], OutcomeType>;

/** A command's kind name (`"patch_product"`, …). */
export type KindName = CommandKind["type"];

/** The value a command of kind `N` is answered with. */
export type OutcomeOf<N extends KindName> = OutcomeValue<(typeof OUTCOME_OF)[N]>;

/** Sends a command to the backend: the desktop app's `apply`, or a stand-in in tests. */
export type Send = (opId: string, kind: CommandKind) => Promise<Applied>;

const viaTauri: Send = (opId, kind) => call(commands.apply(opId, kind));

/** Applies `kind` under `opId` once and returns its outcome's value. */
export async function applyCommand<N extends KindName>(
  opId: string,
  kind: CommandKind & { type: N },
  send: Send = viaTauri,
): Promise<OutcomeOf<N>> {
  // Typed by the name, not by `kind`: `kind.type` would widen to every name while `N` is generic.
  const name: N = kind.type;
  return outcomeValue(await send(opId, kind), OUTCOME_OF[name]);
}

/** The value of `applied`'s outcome when it is of `type`; an `internal` error otherwise. */
export function outcomeValue<T extends OutcomeType>(applied: Applied, type: T): OutcomeValue<T> {
  const outcome = applied.outcome;
  if (isOutcome(outcome, type)) return outcome.value;
  throw internal(`op ${applied.op_id}: expected a ${type} outcome, got ${outcome.type}`);
}

// Narrows `value` too: with `T` generic, `Extract<Outcome, {type: T}>["value"]` stays the union.
function isOutcome<T extends OutcomeType>(o: Outcome, type: T): o is Outcome & { type: T; value: OutcomeValue<T> } {
  return o.type === type;
}

/**
 * Op ids for writes. Each user action gets a new op id (a UUIDv7, like the
 * ids the core makes). The one exception is a retry: a command whose last attempt may have been
 * applied without the UI hearing of it (the call did not reach the backend, or its answer was
 * lost: `outcomeUnsure`) keeps its op id while it is sent again unchanged, so the core applies it
 * at most once and answers the retry with the first outcome. A changed command is a new action.
 */
export class Intents {
  /** Command (as JSON) → op id, for attempts whose outcome is unknown. */
  private readonly unsure = new Map<string, string>();
  private readonly send: Send;
  private readonly newId: () => string;

  constructor(send: Send = viaTauri, newId: () => string = uuidv7) {
    this.send = send;
    this.newId = newId;
  }

  async apply<N extends KindName>(kind: CommandKind & { type: N }): Promise<OutcomeOf<N>> {
    const key = JSON.stringify(kind);
    const opId = this.unsure.get(key) ?? this.newId();
    this.unsure.delete(key);
    try {
      return await applyCommand<N>(opId, kind, this.send);
    } catch (e) {
      if (outcomeUnsure(e)) this.unsure.set(key, opId);
      throw e;
    }
  }
}

/**
 * The app's writes. One for the whole window, so a retry is recognised wherever it comes from
 * (the editor closed and opened again, say): the key is the command itself, so features never
 * share an op id by accident.
 */
export const writes = new Intents();
