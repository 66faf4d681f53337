import { useMemo, useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import type { Category, ConflictKind, ConflictReport, Product } from "../../bindings";
import { dateTime, timeAgo } from "../../lib/format";
import { allChosen, conflictRows, editError, type Choice, type Choices } from "./resolve";
import { pathLabel } from "./labels";

type Props = {
  report: ConflictReport;
  /** The version my edit started from. */
  mineBase: Product;
  categories: Category[];
  onResolve: (choices: Choices) => void;
  onCancel: () => void;
};

// One entry per kind: a kind added in Rust fails `tsc` until the dialog says what its choices mean.
const KIND_HELP = {
  both_changed: null,
  deleted_by_them: { mine: "Keep my edit (re-create it)", theirs: "Accept the deletion" },
  edited_by_them: { mine: "Delete it anyway", theirs: "Keep their edited version" },
  file_replaced_by_them: { mine: "Drop my changes to this image", theirs: "Use their picture, with my changes" },
} satisfies Record<ConflictKind, { mine: string; theirs: string } | null>;

/** Someone else saved first: show each clash with both sides and who made theirs; let the person pick. */
export function ConflictDialog({ report, mineBase, categories, onResolve, onCancel }: Props) {
  const rows = useMemo(() => conflictRows(report, mineBase, categories), [report, mineBase, categories]);
  const [choices, setChoices] = useState<Choices>({});
  const choose = (path: string, c: Choice) => setChoices((cs) => ({ ...cs, [path]: c }));
  const all = (pick: "mine" | "theirs") => setChoices(Object.fromEntries(rows.map((r) => [r.path, { pick }])));
  const ready = allChosen(report, choices);
  const merged = report.mergeable.map((p) => pathLabel(p, report.current, mineBase));

  return (
    <Dialog.Root open onOpenChange={(o) => !o && onCancel()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog dialog-wide" data-testid="conflict-dialog" aria-describedby="conflict-desc">
          <Dialog.Title className="dialog-title">Someone else changed this product</Dialog.Title>
          <p id="conflict-desc" className="dialog-text">
            Your edit started from version {report.expected_version}; the product is now at version {report.current_version}.
            Choose what to keep for each clash. Nothing is saved until you confirm, and your typing is kept if you go back.
          </p>
          {merged.length > 0 && (
            <div className="merged" data-testid="mergeable">
              <span className="merged-title">Merged without a clash:</span> {merged.join(", ")}
            </div>
          )}
          <div className="clash-actions">
            <span className="muted">
              {rows.length} clash{rows.length === 1 ? "" : "es"}
            </span>
            <span className="spacer" />
            <button className="btn btn-small" onClick={() => all("mine")}>
              Keep all mine
            </button>
            <button className="btn btn-small" onClick={() => all("theirs")}>
              Take all theirs
            </button>
          </div>
          <div className="clashes">
            {rows.map((r) => {
              const ch = choices[r.path];
              const help = KIND_HELP[r.kind];
              const conflict = report.conflicts.find((c) => c.path === r.path)!;
              const err = ch?.pick === "edit" ? editError(conflict, ch.value) : null;
              return (
                <fieldset key={r.path} className="clash" data-testid="clash" data-path={r.path}>
                  <legend className="clash-label">{r.label}</legend>
                  <div className="clash-base muted">
                    Was: <span className="value">{r.base}</span>
                  </div>
                  <div className="clash-options">
                    <label className={`option ${ch?.pick === "mine" ? "option-on" : ""}`}>
                      <input type="radio" name={r.path} checked={ch?.pick === "mine"} onChange={() => choose(r.path, { pick: "mine" })} data-testid="pick-mine" />
                      <span className="option-head">{help ? help.mine : "Mine"}</span>
                      <span className="value" data-testid="mine-value">{r.mine}</span>
                      <span className="muted small">your edit</span>
                    </label>
                    <label className={`option ${ch?.pick === "theirs" ? "option-on" : ""}`}>
                      <input type="radio" name={r.path} checked={ch?.pick === "theirs"} onChange={() => choose(r.path, { pick: "theirs" })} data-testid="pick-theirs" />
                      <span className="option-head">{help ? help.theirs : "Theirs"}</span>
                      <span className="value" data-testid="theirs-value">{r.theirs}</span>
                      <span className="muted small">
                        {r.who ? (
                          <span title={dateTime(r.who.at)}>
                            {r.who.actor}, {timeAgo(r.who.at)} (v{r.who.version})
                          </span>
                        ) : (
                          "someone else"
                        )}
                      </span>
                    </label>
                    {r.editable !== null && (
                      <label className={`option option-edit ${ch?.pick === "edit" ? "option-on" : ""}`}>
                        <input
                          type="radio"
                          name={r.path}
                          checked={ch?.pick === "edit"}
                          onChange={() => choose(r.path, { pick: "edit", value: ch?.pick === "edit" ? ch.value : r.editable! })}
                        />
                        <span className="option-head">Edit</span>
                        <input
                          className={`input ${err ? "invalid" : ""}`}
                          aria-label={`New value for ${r.label}`}
                          value={ch?.pick === "edit" ? ch.value : r.editable}
                          onFocus={() => ch?.pick !== "edit" && choose(r.path, { pick: "edit", value: r.editable! })}
                          onChange={(e) => choose(r.path, { pick: "edit", value: e.target.value })}
                        />
                        {err && <span className="field-error">{err}</span>}
                      </label>
                    )}
                  </div>
                </fieldset>
              );
            })}
          </div>
          <div className="dialog-actions">
            <button className="btn" onClick={onCancel}>
              Back to editing
            </button>
            <button className="btn btn-primary" disabled={!ready} onClick={() => onResolve(choices)} data-testid="resolve">
              Save with these choices
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
