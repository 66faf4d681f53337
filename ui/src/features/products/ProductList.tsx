import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ProductQuery, ProductStatus, ProductSummary } from "../../bindings";
import { describeError } from "../../lib/api";
import { formatMoney, timeAgo } from "../../lib/format";
import { PAGE_SIZE, pageQuery, useCategories } from "../../lib/queries";
import { Badge, EmptyState, ErrorState, Spinner } from "../../components/States";
import { editingOf, editingText, useEditors } from "../presence/presence";
import { GatedButton } from "../staff/Gated";

export const LOW_STOCK = 5;
const ROW_HEIGHT = 36;

export type Filters = { search: string; status: ProductStatus | ""; categoryId: string; lowStock: boolean };
export const NO_FILTERS: Filters = { search: "", status: "", categoryId: "", lowStock: false };

export function toQuery(f: Filters): ProductQuery {
  return {
    search: f.search.trim() || null,
    status: f.status || null,
    category_id: f.categoryId || null,
    low_stock: f.lowStock ? LOW_STOCK : null,
    limit: null,
    offset: null,
  };
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

type Props = { selectedId: string | null; onOpen: (id: string) => void; onNew: () => void };

/** The catalog as a virtualised table: pages of 200 are fetched as they scroll into view. */
export function ProductList({ selectedId, onOpen, onNew }: Props) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const editors = useEditors();
  const debounced = useDebounced(filters, 150);
  const query = useMemo(() => toQuery(debounced), [debounced]);
  const categories = useCategories();
  const first = useQuery({ ...pageQuery(query, 0), placeholderData: (prev) => prev });
  const total = first.data?.total ?? 0;

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const pages = useMemo(() => {
    const set = new Set<number>();
    for (const it of items) set.add(Math.floor(it.index / PAGE_SIZE));
    return [...set].filter((p) => p > 0);
  }, [items]);
  const later = useQueries({ queries: pages.map((p) => ({ ...pageQuery(query, p), placeholderData: undefined })) });
  const rowAt = (i: number): ProductSummary | undefined => {
    const page = Math.floor(i / PAGE_SIZE);
    const data = page === 0 ? first.data : later[pages.indexOf(page)]?.data;
    return data?.items[i % PAGE_SIZE];
  };

  const [active, setActive] = useState(0);
  useEffect(() => setActive(0), [query]);
  const moveTo = (i: number) => {
    const next = Math.max(0, Math.min(total - 1, i));
    setActive(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => moveTo(active + 1),
      ArrowUp: () => moveTo(active - 1),
      PageDown: () => moveTo(active + page),
      PageUp: () => moveTo(active - page),
      Home: () => moveTo(0),
      End: () => moveTo(total - 1),
      Enter: () => {
        const row = rowAt(active);
        if (row) onOpen(row.id);
      },
    };
    const act = keys[e.key];
    if (act) {
      e.preventDefault();
      act();
    }
  };

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  const catName = (id: string | null) => categories.data?.find((c) => c.id === id)?.name ?? "";

  return (
    <section className="pane list-pane" aria-label="Products">
      <div className="toolbar">
        <input
          className="input search"
          type="search"
          placeholder="Search name, slug or SKU…"
          aria-label="Search products"
          data-testid="search"
          value={filters.search}
          onChange={(e) => set({ search: e.target.value })}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") {
              e.preventDefault();
              scrollRef.current?.focus();
            }
          }}
        />
        <GatedButton permission="edit_catalog" className="btn btn-primary" onClick={onNew} data-testid="new-product">
          New product
        </GatedButton>
      </div>
      <div className="toolbar toolbar-filters">
        <select
          className="input"
          aria-label="Status"
          value={filters.status}
          onChange={(e) => set({ status: e.target.value as Filters["status"] })}
        >
          <option value="">All statuses</option>
          <option value="draft">Draft</option>
          <option value="published">Published</option>
          <option value="archived">Archived</option>
        </select>
        <select
          className="input"
          aria-label="Category"
          value={filters.categoryId}
          onChange={(e) => set({ categoryId: e.target.value })}
        >
          <option value="">All categories</option>
          {categories.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={filters.lowStock} onChange={(e) => set({ lowStock: e.target.checked })} />
          Low stock (≤ {LOW_STOCK})
        </label>
        <span className="muted count" data-testid="product-count">
          {first.data ? `${total.toLocaleString()} product${total === 1 ? "" : "s"}` : ""}
        </span>
      </div>

      {/* The column headers belong to the grid when there are rows; over a state they are only a picture. */}
      {(first.isPending || first.isError || total === 0) && <ColumnHeads hidden />}
      {first.isPending ? (
        <Spinner label="Loading products…" />
      ) : first.isError ? (
        <ErrorState title="Could not load products" message={describeError(first.error)} onRetry={() => first.refetch()} />
      ) : total === 0 ? (
        filtered ? (
          <EmptyState title="No products match">
            <button className="btn" onClick={() => setFilters(NO_FILTERS)}>
              Clear filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="No products yet">
            Create one, or fill a demo catalog with <code>stockdesk seed</code>.
          </EmptyState>
        )
      ) : (
        <div className="table-grid" role="grid" aria-rowcount={total + 1} aria-label="Product list">
        <ColumnHeads />
        <div
          ref={scrollRef}
          className="table-body"
          role="rowgroup"
          aria-label="Products, ↑ ↓ to move, Enter to open"
          tabIndex={0}
          onKeyDown={onKeyDown}
          data-testid="product-list"
        >
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {items.map((it) => {
              const row = rowAt(it.index);
              const cls = [
                "row",
                row && row.id === selectedId ? "row-selected" : "",
                it.index === active ? "row-active" : "",
              ].join(" ");
              return (
                <div
                  key={it.key}
                  className={cls}
                  role="row"
                  aria-rowindex={it.index + 2}
                  aria-selected={row?.id === selectedId}
                  data-testid={row ? "product-row" : "product-row-loading"}
                  data-product-id={row?.id}
                  style={{ transform: `translateY(${it.start}px)`, height: ROW_HEIGHT }}
                  onClick={() => {
                    setActive(it.index);
                    if (row) onOpen(row.id);
                  }}
                >
                  {row ? (
                    <>
                      <span className="c-name" role="gridcell" title={row.name}>
                        <span className="name">{row.name}</span>
                        {(row.category_id || editingOf(editors.data, row.id).length > 0) && (
                          <span className="sub">
                            {editingOf(editors.data, row.id).length > 0 && (
                              <span className="presence presence-small" data-testid="row-editing">
                                {editingText(editingOf(editors.data, row.id))}
                              </span>
                            )}
                            {row.category_id && catName(row.category_id)}
                          </span>
                        )}
                      </span>
                      <span className="c-status" role="gridcell">
                        <Badge tone={row.status}>{row.status}</Badge>
                      </span>
                      <span className="c-num" role="gridcell">{row.variant_count}</span>
                      <span
                        role="gridcell"
                        className={`c-num ${row.min_stock !== null && row.min_stock <= LOW_STOCK ? "low" : ""}`}
                        title={row.min_stock !== null && row.min_stock <= LOW_STOCK ? `A variant has ${row.min_stock} left` : undefined}
                        data-testid="row-stock"
                      >
                        {row.total_stock}
                      </span>
                      <span className="c-num c-price" role="gridcell">{formatMoney(row.min_price_minor, row.currency)}</span>
                      <span className="c-updated muted" role="gridcell" title={`by ${row.updated_by}, ${row.updated_at}`}>
                        {timeAgo(row.updated_at)}
                      </span>
                    </>
                  ) : (
                    <span className="c-name skeleton" role="gridcell" aria-label="Loading…" />
                  )}
                </div>
              );
            })}
          </div>
        </div>
        </div>
      )}
    </section>
  );
}

function ColumnHeads({ hidden }: { hidden?: boolean }) {
  return (
    <div className="table-head" role="row" aria-rowindex={hidden ? undefined : 1} aria-hidden={hidden || undefined}>
      <span className="c-name" role="columnheader">Name</span>
      <span className="c-status" role="columnheader">Status</span>
      <span className="c-num" role="columnheader">Variants</span>
      <span className="c-num" role="columnheader">Stock</span>
      <span className="c-num c-price" role="columnheader">Price from</span>
      <span className="c-updated" role="columnheader">Updated</span>
    </div>
  );
}
