import { moveImage, setThumbnail, type Draft, type ImageDraft } from "./draft";

type Props = { draft: Draft; errors: Record<string, string>; onChange: (d: Draft) => void };

/** Image metadata: order, alt text, which one is the thumbnail. (Adding files comes with image storage.) */
export function ImagesTable({ draft, errors, onChange }: Props) {
  const set = (images: ImageDraft[]) => onChange({ ...draft, images });
  const remove = (id: string) =>
    onChange({ ...draft, images: draft.images.filter((i) => i.id !== id), deletedImages: [...draft.deletedImages, id] });
  return (
    <div className="section">
      <div className="section-head">
        <h3>Images</h3>
        <span className="muted">{draft.images.length}</span>
      </div>
      {draft.images.length === 0 ? (
        <div className="muted empty-inline">No images.</div>
      ) : (
        <ul className="image-list" data-testid="images">
          {draft.images.map((img, k) => (
            <li key={img.id} className="image-item">
              <div className={`thumb ${img.is_thumbnail ? "thumb-main" : ""}`} title={img.blob_key}>
                {k + 1}
              </div>
              <div className="image-fields">
                <input
                  className={`input ${errors[`images.${img.id}.alt`] ? "invalid" : ""}`}
                  aria-label="Alt text"
                  placeholder="Describe the picture for screen readers"
                  value={img.alt}
                  onChange={(e) => set(draft.images.map((x) => (x.id === img.id ? { ...x, alt: e.target.value } : x)))}
                />
                {errors[`images.${img.id}.alt`] && <div className="field-error">{errors[`images.${img.id}.alt`]}</div>}
                <div className="muted small mono">{img.blob_key}</div>
              </div>
              <label className="check">
                <input type="radio" name="thumbnail" checked={img.is_thumbnail} onChange={() => set(setThumbnail(draft.images, img.id))} />
                Thumbnail
              </label>
              <div className="btn-group">
                <button className="btn btn-icon" aria-label="Move up" disabled={k === 0} onClick={() => set(moveImage(draft.images, img.id, -1))}>
                  ↑
                </button>
                <button
                  className="btn btn-icon"
                  aria-label="Move down"
                  disabled={k === draft.images.length - 1}
                  onClick={() => set(moveImage(draft.images, img.id, 1))}
                >
                  ↓
                </button>
                <button className="btn btn-icon" aria-label="Remove image" onClick={() => remove(img.id)}>
                  ✕
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
