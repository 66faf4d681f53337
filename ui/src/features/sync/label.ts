import type { SyncStatus } from "../../bindings";
import { ERROR_CODES, isErrorCode } from "../../lib/api";
import { timeAgo } from "../../lib/format";

export type SyncLabel = { state: "online" | "offline" | "syncing" | "unknown"; text: string; detail: string; title: string };

/** What the status bar says of a replica's sync (null on a database of its own). */
export function syncLabel(s: SyncStatus | undefined, now: number = Date.now()): SyncLabel | null {
  if (!s?.joined) return null;
  const state = s.syncing ? "syncing" : s.online === true ? "online" : s.online === false ? "offline" : "unknown";
  const text = { online: "Online", offline: "Offline", syncing: "Syncing…", unknown: "Not synced yet" }[state];
  const parts = [`${s.pending} pending`];
  if (s.last_sync_at) parts.push(`last sync ${timeAgo(s.last_sync_at, now)}`);
  const code = s.last_error_code;
  const why = code ? (isErrorCode(code) ? ERROR_CODES[code].title : code) : null;
  const title = [`Terminal ${s.terminal ?? ""} of ${s.shop ?? "the shop"}`, why && `Last sync failed: ${why}`].filter(Boolean).join(". ");
  return { state, text, detail: parts.join(" · "), title };
}
