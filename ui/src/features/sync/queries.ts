// The terminal's sync, polled: the background sync runs every 5 s and after each write.
import { useQuery } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { call } from "../../lib/api";

export const syncKeys = {
  all: ["sync"] as const,
  status: ["sync", "status"] as const,
  attention: ["sync", "attention"] as const,
};

export function useSyncStatus() {
  return useQuery({ queryKey: syncKeys.status, queryFn: () => call(commands.syncStatus()), refetchInterval: 1_000, retry: false });
}

export function useAttention(enabled: boolean) {
  return useQuery({ queryKey: syncKeys.attention, queryFn: () => call(commands.syncAttention()), enabled, refetchInterval: 5_000 });
}
