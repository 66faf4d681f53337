// Pure helpers for image files in the editor: which dropped paths are images, and when the
// file actions (their own version-checked edits) may run.

/** The extensions the core accepts (it also checks that the bytes match the extension). */
export const IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif"] as const;

/** The last component of a path, for messages (`/a/b/front.jpg` → `front.jpg`; Windows too). */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export function isImagePath(path: string): boolean {
  const name = fileName(path);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return false;
  return (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot + 1).toLowerCase());
}

/** Splits dropped paths into image files to add and the rest (folders, documents, …). */
export function splitDropped(paths: string[]): { images: string[]; skipped: string[] } {
  const images: string[] = [];
  const skipped: string[] = [];
  for (const p of paths) (isImagePath(p) ? images : skipped).push(p);
  return { images, skipped };
}

/**
 * Why the file actions are unavailable right now, or `null` when they may run. Adding or
 * replacing a file is its own version-checked edit, so it must not start while typed changes
 * are unsaved (the form would have to be rebuilt on the new version and could lose them).
 */
export function fileActionsBlocked(state: { dirty: boolean; saving: boolean; busy: boolean; stale: boolean }): string | null {
  if (state.saving) return "Saving…";
  if (state.busy) return "Adding files…";
  if (state.dirty) return "Save or revert your changes first: adding or replacing files is saved on its own.";
  if (state.stale) return "A newer version is loading; try again in a moment.";
  return null;
}
