import * as Dialog from "@radix-ui/react-dialog";
import type { Product } from "../../bindings";
import { dateTime, timeAgo } from "../../lib/format";
import { pathLabel } from "./labels";

/** What the core says saving would do now (`preview`: the merge run and rolled back). */
export type Preview =
  | { state: "loading" }
  | { state: "merges"; applied: string[] }
  | { state: "clashes"; clashes: string[]; mergeable: string[] }
  | { state: "failed"; message: string };

type Props = {
  /** The version the edit started from. */
  base: Product;
  /** The version saved meanwhile. */
  latest: Product;
  /** What someone else changed since `base` (`changesSince`). */
  theirs: string[];
  /** What this edit changes (`buildPatch(...).changed`). */
  mine: string[];
  preview: Preview;
  saving: boolean;
  onSave: () => void;
  onCancel: () => void;
};

/**
 * "Review now" on the banner: what someone else saved while I was editing beside what I typed,
 * before anything is written. Saving goes the usual way: the core merges against the version the
 * edit started from, and a real clash opens the conflict dialog to choose. Nothing is decided here.
 */
export function ReviewDialog({ base, latest, theirs, mine, preview, saving, onSave, onCancel }: Props) {
  const label = (p: string) => pathLabel(p, latest, base);
  // The clashes are the core's (its merge, run and rolled back), not a guess from the paths.
  const clashes = preview.state === "clashes" ? preview.clashes : [];
  const clashSet = new Set(clashes);
  const both = unique(clashes.map(label));
  const onlyTheirs = unique(theirs.filter((p) => !clashSet.has(p)).map(label));
  const onlyMine = unique(mine.filter((p) => !clashSet.has(p)).map(label));
  return (
    <Dialog.Root open onOpenChange={(o) => !o && onCancel()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog" data-testid="review-dialog" aria-describedby="review-desc">
          <Dialog.Title className="dialog-title">
            {latest.updated_by} saved version {latest.version} while you were editing
          </Dialog.Title>
          <p id="review-desc" className="dialog-text">
            Your edit started from version {base.version}. Nothing is saved until you choose to; saving merges your
            changes with theirs, and asks you to choose where both changed the same thing differently.
          </p>
          <dl className="review">
            <dt>
              Changed by {latest.updated_by} <span className="muted" title={dateTime(latest.updated_at)}>{timeAgo(latest.updated_at)}</span>
            </dt>
            <dd data-testid="review-theirs">{onlyTheirs.length ? onlyTheirs.join(", ") : "—"}</dd>
            <dt>Changed by you (not saved)</dt>
            <dd data-testid="review-mine">{onlyMine.length ? onlyMine.join(", ") : "—"}</dd>
            {both.length > 0 && (
              <>
                <dt>Changed differently on both sides (you choose when saving)</dt>
                <dd data-testid="review-both">{both.join(", ")}</dd>
              </>
            )}
          </dl>
          <p className="dialog-text" data-testid="review-preview" data-state={preview.state}>
            {preview.state === "loading" && "Checking what saving would do…"}
            {preview.state === "merges" && "Saving now merges your changes with theirs; nothing clashes."}
            {preview.state === "clashes" &&
              `Saving now keeps ${preview.mergeable.length ? unique(preview.mergeable.map(label)).join(", ") : "nothing else"} and asks you about ${clashes.length === 1 ? "one clash" : `${clashes.length} clashes`}.`}
            {preview.state === "failed" && `Could not check: ${preview.message}. Saving still checks everything.`}
          </p>
          <div className="dialog-actions">
            <button className="btn" onClick={onCancel}>
              Back to editing
            </button>
            <button className="btn btn-primary" disabled={saving} onClick={onSave} data-testid="review-save">
              {preview.state === "clashes" ? "Save and resolve…" : "Save merged"}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
