// Who else is editing which product (presence). A terminal with unsaved changes to a product
// says so every HEARTBEAT_MS; the core counts it as editing until 150 s after the last heartbeat,
// or until it says it stopped (saved, reverted, closed). Presence only informs: it never locks
// anything and never blocks a save (the version check and the merge decide).
import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands, type Editing } from "../../bindings";
import { call } from "../../lib/api";
import { keys } from "../../lib/queries";

export const HEARTBEAT_MS = 15_000;
/** How often the list asks who is editing (change events also refetch it). */
export const EDITORS_POLL_MS = 3_000;

/** Other terminals editing now (never this one). */
export function useEditors() {
  return useQuery({
    queryKey: keys.editors,
    queryFn: () => call(commands.editors()),
    refetchInterval: EDITORS_POLL_MS,
    // A failure to ask is no reason to show an error: the markers just stay as they were.
    retry: false,
  });
}

/** The people editing `productId`, one name each, in the order they started. */
export function editingOf(editors: Editing[] | undefined, productId: string): string[] {
  const of = (editors ?? []).filter((e) => e.product_id === productId).sort((a, b) => a.since.localeCompare(b.since));
  return [...new Set(of.map((e) => e.actor))];
}

/** "bea is editing", "bea, cem are editing". */
export function editingText(actors: string[]): string {
  return actors.length === 1 ? `${actors[0]} is editing` : `${actors.join(", ")} are editing`;
}

let editingNow: string | null = null;

function say(productId: string, editing: boolean): Promise<void> {
  return call(commands.setEditing(productId, editing)).then(
    () => undefined,
    () => {
      /* presence is a courtesy: a failed heartbeat changes nothing else */
    },
  );
}

/** While `dirty`, tells the other terminals this one is editing `productId`; stops when clean or gone. */
export function useEditingHeartbeat(productId: string, dirty: boolean) {
  useEffect(() => {
    if (!dirty) return;
    editingNow = productId;
    void say(productId, true);
    const timer = setInterval(() => void say(productId, true), HEARTBEAT_MS);
    return () => {
      clearInterval(timer);
      if (editingNow === productId) editingNow = null;
      void say(productId, false);
    };
  }, [productId, dirty]);
}

/** Before the window closes with unsaved changes: say this terminal stopped editing (≤ 1 s). */
export function stopEditing(): Promise<void> {
  const id = editingNow;
  editingNow = null;
  if (id === null) return Promise.resolve();
  return Promise.race([say(id, false), new Promise<void>((r) => setTimeout(r, 1_000))]);
}
