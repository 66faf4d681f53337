// TanStack Query hooks over the commands. Keys: ["products", filters, page], ["product", id],
// ["history", id], ["categories"], ["connection"]. The core's change events invalidate them.
import { useEffect } from "react";
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { commands, events, type ProductQuery } from "../bindings";
import { call } from "./api";

export const PAGE_SIZE = 200;

export const keys = {
  products: ["products"] as const,
  page: (q: ProductQuery, page: number) => ["products", q, page] as const,
  product: (id: string) => ["product", id] as const,
  history: (id: string) => ["history", id] as const,
  categories: ["categories"] as const,
  connection: ["connection"] as const,
};

export function pageQuery(q: ProductQuery, page: number) {
  return {
    queryKey: keys.page(q, page),
    queryFn: () => call(commands.listProducts({ ...q, limit: PAGE_SIZE, offset: page * PAGE_SIZE })),
    staleTime: 5_000,
  };
}

export function useProduct(id: string | null) {
  return useQuery({
    queryKey: keys.product(id ?? ""),
    queryFn: () => call(commands.getProduct(id!)),
    enabled: id !== null,
  });
}

export function useHistory(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.history(id),
    queryFn: () => call(commands.productHistory(id)),
    enabled,
  });
}

export function useCategories() {
  return useQuery({ queryKey: keys.categories, queryFn: () => call(commands.listCategories()), staleTime: 60_000 });
}

export function useConnection() {
  return useQuery({ queryKey: keys.connection, queryFn: () => commands.connectionInfo(), staleTime: Infinity });
}

export function invalidateProduct(qc: QueryClient, id: string) {
  void qc.invalidateQueries({ queryKey: keys.products });
  void qc.invalidateQueries({ queryKey: keys.product(id) });
  void qc.invalidateQueries({ queryKey: keys.history(id) });
}

/** Refetches what a change event touched (everything when the event says `null`). */
export function useChangeEvents() {
  const qc = useQueryClient();
  useEffect(() => {
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    events.dataChanged
      .listen((e) => {
        const change = e.payload.change;
        if (change?.kind === "product") invalidateProduct(qc, change.id);
        else void qc.invalidateQueries();
      })
      .then((u) => (cancelled ? u() : (unlisten = u)))
      .catch(() => {
        /* outside Tauri (unit tests): no events */
      });
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, [qc]);
}
