import { useMemo, useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import type { Category, ConflictKind, ConflictReport, Product } from "../../bindings";
import { dateTime, timeAgo } from "../../lib/format";
import { useImageUrl } from "../editor/imageFile";
import { allChosen, conflictRows, editError, type Choice, type Choices, type ConflictRow } from "./resolve";
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
  // Shown by `PictureClash`: "mine" there lets go of my changes to the image (pick "drop").
  file_replaced_by_them: { mine: "Drop my changes to this image", theirs: "Use their picture (keep my other changes)" },
} satisfies Record<ConflictKind, { mine: string; theirs: string } | null>;

/** Someone else saved first: show each clash with both sides and who made theirs; let the person pick. */
export function ConflictDialog({ report, mineBase, categories, onResolve, onCancel }: Props) {
  const rows = useMemo(() => conflictRows(report, mineBase, categories), [report, mineBase, categories]);
  const [choices, setChoices] = useState<Choices>({});
  const choose = (path: string, c: Choice) => setChoices((cs) => ({ ...cs, [path]: c }));
  // A replaced file cannot be "mine" (the file is not part of the edit): both buttons take their
  // picture there and keep my other changes to the image.
  const all = (pick: "mine" | "theirs") =>
    setChoices(Object.fromEntries(rows.map((r) => [r.path, { pick: r.picture ? "theirs" : pick }])));
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
              if (r.picture) return <PictureClash key={r.path} row={r} choice={ch} onChoose={(c) => choose(r.path, c)} />;
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

/**
 * Someone else replaced the file of an image I edited (alt text, order, thumbnail): both pictures
 * side by side. Mine is the file my edit started from (if it is gone already, the thumbnail the
 * editor showed); theirs is the file now.
 */
function PictureClash({ row, choice, onChoose }: { row: ConflictRow; choice: Choice | undefined; onChoose: (c: Choice) => void }) {
  const pic = row.picture!;
  return (
    <fieldset className="clash" data-testid="clash" data-path={row.path} data-picture-clash>
      <legend className="clash-label">{row.label}</legend>
      <div className="clash-base muted">
        {row.who ? `${row.who.actor} replaced the file (v${row.who.version}, ${timeAgo(row.who.at)}) while you edited this image.` : "Someone else replaced the file while you edited this image."}
      </div>
      <div className="picture-pair">
        <figure className="picture" data-testid="picture-mine">
          <ClashPicture fileKey={pic.mine} fallbackKey={pic.mineThumb} alt="The picture your edit started from" />
          <figcaption className="muted small">Yours (the picture you were editing)</figcaption>
        </figure>
        <figure className="picture" data-testid="picture-theirs">
          <ClashPicture fileKey={pic.theirs} fallbackKey={pic.theirsThumb} alt="Their picture" />
          <figcaption className="muted small">
            {row.who ? (
              <span title={dateTime(row.who.at)}>
                Theirs, from {row.who.actor}
              </span>
            ) : (
              "Theirs"
            )}
          </figcaption>
        </figure>
      </div>
      <div className="clash-options clash-options-two">
        <label className={`option ${choice?.pick === "theirs" ? "option-on" : ""}`}>
          <input type="radio" name={row.path} checked={choice?.pick === "theirs"} onChange={() => onChoose({ pick: "theirs" })} data-testid="pick-theirs" />
          <span className="option-head">{KIND_HELP.file_replaced_by_them.theirs}</span>
          <span className="muted small">your alt text, order or thumbnail choice apply to their picture</span>
        </label>
        <label className={`option ${choice?.pick === "drop" ? "option-on" : ""}`}>
          <input type="radio" name={row.path} checked={choice?.pick === "drop"} onChange={() => onChoose({ pick: "drop" })} data-testid="pick-drop" />
          <span className="option-head">{KIND_HELP.file_replaced_by_them.mine}</span>
          <span className="muted small">the image stays as they saved it</span>
        </label>
      </div>
    </fieldset>
  );
}

function ClashPicture({ fileKey, fallbackKey, alt }: { fileKey: string; fallbackKey: string | null; alt: string }) {
  const file = useImageUrl(fileKey);
  const fallback = useImageUrl(file.failed ? fallbackKey : null);
  const url = file.url ?? fallback.url;
  if (url) return <img src={url} alt={alt} title={fileKey} data-testid="picture" />;
  return <div className="picture-missing muted">{file.failed && (fallback.failed || !fallbackKey) ? "The file is gone" : "Loading…"}</div>;
}
