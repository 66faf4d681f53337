// Where a till's allotment plugs into the sale view (issue 16): what this terminal holds of a
// variant, for offline sales. Terminals have no allotments yet, so this says nothing (null) and
// the view shows no such column; when the core gives the figures, this hook returns them.

/** Units of `variantId` this till holds (its allotment), or null when it holds none. */
export type TillHolds = (variantId: string) => number | null;

/** This till's allotment figures, or null while terminals have no allotments. */
export function useTillHolds(): TillHolds | null {
  return null;
}
