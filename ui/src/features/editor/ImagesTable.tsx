import { useEffect, useRef, useState } from "react";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";
import type { Image } from "../../bindings";
import { moveImage, setThumbnail, type Draft, type ImageDraft } from "./draft";
import { fileName, IMAGE_EXTENSIONS, splitDropped } from "./files";
import { useImageUrl } from "./imageFile";
import { GatedButton, PermHint } from "../staff/Gated";
import { usePermissions } from "../staff/permissions";

/** What the editor lets the images panel do with files (each is its own version-checked edit). */
export type FileActions = {
  /** Why the file actions are unavailable now (shown as a tooltip), or null. */
  blocked: string | null;
  add: (paths: string[]) => void;
  replace: (imageId: string, path: string) => void;
  /** Tells the user something about a drop or a pick (e.g. files that are not images). */
  notice: (title: string, body?: string) => void;
};

type Props = {
  draft: Draft;
  /** The saved images, for their thumbnail keys. */
  saved: Image[];
  errors: Record<string, string>;
  onChange: (d: Draft) => void;
  files: FileActions;
};

const FILTERS = [{ name: "Images", extensions: [...IMAGE_EXTENSIONS] }];

/** Images: files (add, replace, drop), order, alt text, which one is the thumbnail. */
export function ImagesTable({ draft, saved, errors, onChange, files }: Props) {
  const set = (images: ImageDraft[]) => onChange({ ...draft, images });
  const remove = (id: string) =>
    onChange({ ...draft, images: draft.images.filter((i) => i.id !== id), deletedImages: [...draft.deletedImages, id] });
  const thumbs = new Map(saved.map((i) => [i.id, i.thumb_key]));
  const perms = usePermissions();
  // Files (add, replace, remove) and the words about them (alt text, order, thumbnail) are two
  // permissions: a helper may describe pictures without changing them.
  const noFiles = perms.why("edit_images");
  const noWords = perms.why("edit_descriptions");
  const blocked = noFiles ?? files.blocked;
  const drop = useDropTarget({ ...files, blocked });

  const pickAdd = async () => {
    const picked = await open({ multiple: true, directory: false, filters: FILTERS, title: "Add images" });
    if (picked && picked.length > 0) files.add(picked);
  };
  const pickReplace = async (id: string) => {
    const picked = await open({ multiple: false, directory: false, filters: FILTERS, title: "Replace the file" });
    if (picked) files.replace(id, picked);
  };

  return (
    <div
      className={`section images-panel ${drop.over ? (blocked ? "drop-blocked" : "drop-over") : ""}`}
      ref={drop.ref}
      data-testid="images-panel"
    >
      <div className="section-head">
        <h3>Images</h3>
        <span className="muted">{draft.images.length}</span>
        <span className="spacer" />
        <span className="muted small">{drop.over ? (blocked ?? "Drop to add") : "or drop image files here"}</span>
        <GatedButton
          permission="edit_images"
          className="btn btn-small"
          data-testid="add-images"
          disabled={files.blocked !== null}
          title={files.blocked ?? "Add JPEG, PNG, WebP or GIF files (saved as a new version)"}
          onClick={() => void pickAdd()}
        >
          Add images…
        </GatedButton>
      </div>
      <div className="perm-notes">
        <PermHint permission="edit_images" />
        <PermHint permission="edit_descriptions" />
      </div>
      {errors.file && (
        <div className="field-error" role="alert" data-testid="file-error">
          {errors.file}
        </div>
      )}
      {draft.images.length === 0 ? (
        <div className="muted empty-inline">No images.</div>
      ) : (
        <ul className="image-list" data-testid="images">
          {draft.images.map((img, k) => (
            <li key={img.id} className="image-item">
              <Thumb thumbKey={thumbs.get(img.id) ?? null} alt={img.alt} main={img.is_thumbnail} n={k + 1} title={img.blob_key} />
              <div className="image-fields">
                <input
                  className={`input ${errors[`images.${img.id}.alt`] ? "invalid" : ""}`}
                  aria-label="Alt text"
                  data-testid="image-alt"
                  data-image-id={img.id}
                  placeholder="Describe the picture for screen readers"
                  value={img.alt}
                  readOnly={noWords !== null}
                  title={noWords ?? undefined}
                  onChange={(e) => set(draft.images.map((x) => (x.id === img.id ? { ...x, alt: e.target.value } : x)))}
                />
                {errors[`images.${img.id}.alt`] && <div className="field-error">{errors[`images.${img.id}.alt`]}</div>}
                <div className="muted small mono">{img.blob_key}</div>
              </div>
              <label className="check">
                <input
                  type="radio"
                  name="thumbnail"
                  checked={img.is_thumbnail}
                  disabled={noWords !== null}
                  title={noWords ?? undefined}
                  onChange={() => set(setThumbnail(draft.images, img.id))}
                />
                Thumbnail
              </label>
              <div className="btn-group">
                <GatedButton
                  permission="edit_images"
                  className="btn btn-small"
                  disabled={files.blocked !== null || !thumbs.has(img.id)}
                  title={files.blocked ?? "Choose another file for this image (saved as a new version)"}
                  onClick={() => void pickReplace(img.id)}
                >
                  Replace file…
                </GatedButton>
                <GatedButton
                  permission="edit_descriptions"
                  className="btn btn-icon"
                  aria-label="Move up"
                  disabled={k === 0}
                  onClick={() => set(moveImage(draft.images, img.id, -1))}
                >
                  ↑
                </GatedButton>
                <GatedButton
                  permission="edit_descriptions"
                  className="btn btn-icon"
                  aria-label="Move down"
                  disabled={k === draft.images.length - 1}
                  onClick={() => set(moveImage(draft.images, img.id, 1))}
                >
                  ↓
                </GatedButton>
                <GatedButton permission="edit_images" className="btn btn-icon" aria-label="Remove image" onClick={() => remove(img.id)}>
                  ✕
                </GatedButton>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The thumbnail's bytes as a blob: URL (content-addressed, so cached for good). */
function Thumb({ thumbKey, alt, main, n, title }: { thumbKey: string | null; alt: string; main: boolean; n: number; title: string }) {
  const { url, failed } = useImageUrl(thumbKey);
  return (
    <div className={`thumb ${main ? "thumb-main" : ""}`} title={title}>
      {url ? <img src={url} alt={alt} data-testid="image-thumb" /> : failed ? "?" : n}
    </div>
  );
}

/** Tauri's drag-and-drop of files onto the webview, limited to this panel's rectangle. */
function useDropTarget(files: FileActions) {
  const ref = useRef<HTMLDivElement>(null);
  const [over, setOver] = useState(false);
  const filesRef = useRef(files);
  filesRef.current = files;
  useEffect(() => {
    const inside = (p: { x: number; y: number }) => {
      const el = ref.current;
      if (!el) return false;
      // The event gives physical pixels; the DOM works in CSS pixels.
      const x = p.x / window.devicePixelRatio;
      const y = p.y / window.devicePixelRatio;
      const r = el.getBoundingClientRect();
      return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
    };
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    try {
      getCurrentWebview()
        .onDragDropEvent((e) => {
          const p = e.payload;
          if (p.type === "enter" || p.type === "over") setOver(inside(p.position));
          else if (p.type === "leave") setOver(false);
          else if (p.type === "drop") {
            setOver(false);
            if (!inside(p.position)) return;
            const f = filesRef.current;
            if (f.blocked) return f.notice("Files not added", f.blocked);
            const { images, skipped } = splitDropped(p.paths);
            if (skipped.length > 0)
              f.notice("Not image files", `${skipped.map(fileName).join(", ")}: only ${IMAGE_EXTENSIONS.join(", ")} can be added.`);
            if (images.length > 0) f.add(images);
          }
        })
        .then((u) => (cancelled ? u() : (unlisten = u)))
        .catch(() => {
          /* outside Tauri (unit tests): no drops */
        });
    } catch {
      /* outside Tauri */
    }
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, []);
  return { ref, over };
}
