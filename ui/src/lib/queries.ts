// TanStack Query hooks over the commands. Keys: ["products", filters, page], ["product", id],
// ["history", id], ["categories"], ["connection"], ["session"], ["staff", …]. The core's change
// events invalidate them.
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { commands, events, type OrderStatus, type ProductQuery } from "../bindings";
import { call } from "./api";
import { useAppEvent } from "./events";

export const PAGE_SIZE = 200;

export const keys = {
  products: ["products"] as const,
  page: (q: ProductQuery, page: number) => ["products", q, page] as const,
  product: (id: string) => ["product", id] as const,
  history: (id: string) => ["history", id] as const,
  categories: ["categories"] as const,
  connection: ["connection"] as const,
  orders: ["orders"] as const,
  orderList: (status: OrderStatus | null) => ["orders", status] as const,
  stock: ["stock"] as const,
  /** The till's look-ups (`find_for_sale`): availability moves with every order and edit. */
  forSale: ["for-sale"] as const,
  stockLevel: (variantId: string) => ["stock", "level", variantId] as const,
  movements: (variantId: string) => ["stock", "movements", variantId] as const,
  sweeper: ["sweeper"] as const,
  editors: ["editors"] as const,
  session: ["session"] as const,
  staff: ["staff"] as const,
  staffProfiles: ["staff", "profiles"] as const,
  staffEvents: ["staff", "events"] as const,
  lockSettings: ["lock-settings"] as const,
  reports: ["reports"] as const,
};

export function useOrders(status: OrderStatus | null) {
  return useQuery({
    queryKey: keys.orderList(status),
    queryFn: () => call(commands.listOrders({ status, limit: 200, offset: null })),
    refetchInterval: 15_000,
  });
}

export function useStockLevel(variantId: string) {
  return useQuery({ queryKey: keys.stockLevel(variantId), queryFn: () => call(commands.stockLevel(variantId)) });
}

export function useMovements(variantId: string | null) {
  return useQuery({
    queryKey: keys.movements(variantId ?? ""),
    queryFn: () => call(commands.stockMovements(variantId!)),
    enabled: variantId !== null,
  });
}

/** The sweeper's health, polled: it runs every 30 s in the background. */
/** The daily backups: when the last one ran, or why it failed (looked at once a minute). */
export function useBackupStatus() {
  return useQuery({ queryKey: ["backup-status"], queryFn: () => call(commands.backupStatus()), refetchInterval: 60_000 });
}

export function useSweeperHealth() {
  return useQuery({ queryKey: keys.sweeper, queryFn: () => call(commands.sweeperHealth()), refetchInterval: 10_000 });
}

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

/** Who is signed in at this terminal, what they may do, and whether it is locked. */
export function useSignIn() {
  return useQuery({ queryKey: keys.session, queryFn: () => call(commands.session()), retry: false });
}

/** The shop's live profiles (also whose are locked, and until when). */
export function useStaffProfiles(enabled = true) {
  return useQuery({ queryKey: keys.staffProfiles, queryFn: () => call(commands.staffProfiles()), enabled, staleTime: 0 });
}

export function useStaffEvents(limit: number) {
  return useQuery({ queryKey: [...keys.staffEvents, limit], queryFn: () => call(commands.staffEvents(limit)) });
}

export function useLockSettings() {
  return useQuery({ queryKey: keys.lockSettings, queryFn: () => commands.lockSettings(), staleTime: Infinity });
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
  useAppEvent(events.dataChanged, ({ change }) => {
        // A save ends someone's editing: ask again at once rather than at the next poll.
        void qc.invalidateQueries({ queryKey: keys.editors });
        // Every kind of change moves some figure of the reports (only an open Reports view refetches).
        void qc.invalidateQueries({ queryKey: keys.reports });
        // The till's list shows names, prices and what is available: any change may move them.
        void qc.invalidateQueries({ queryKey: keys.forSale });
        if (change?.kind === "product") {
          invalidateProduct(qc, change.id);
          void qc.invalidateQueries({ queryKey: keys.stock });
        } else if (change?.kind === "stock") {
          void qc.invalidateQueries({ queryKey: keys.stock });
          void qc.invalidateQueries({ queryKey: keys.products });
          // The open product's variants show stock on hand (the event names the variant only).
          void qc.invalidateQueries({ queryKey: ["product"] });
        } else if (change?.kind === "order") {
          void qc.invalidateQueries({ queryKey: keys.orders });
          void qc.invalidateQueries({ queryKey: keys.stock });
        } else if (change?.kind === "staff") {
          // A profile added or removed (here or at another terminal): who may do what may differ.
          void qc.invalidateQueries({ queryKey: keys.session });
          void qc.invalidateQueries({ queryKey: keys.staff });
        } else if (change?.kind === "sweep") {
          // A sweep expires overdue orders (freeing stock) and tidies files: products are untouched.
          void qc.invalidateQueries({ queryKey: keys.orders });
          void qc.invalidateQueries({ queryKey: keys.stock });
          void qc.invalidateQueries({ queryKey: keys.sweeper });
        } else void qc.invalidateQueries();
  });
}
