import { useState, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands, type ReportRange } from "../../bindings";
import { call, describeError } from "../../lib/api";
import { dateTime, formatMoney } from "../../lib/format";
import { keys } from "../../lib/queries";
import { EmptyState, ErrorState, Spinner } from "../../components/States";
import { BarChart } from "./BarChart";
import {
  currencies,
  EDIT_SERIES,
  editsBars,
  editsSummary,
  HOLD_SERIES,
  holdsBars,
  holdsSummary,
  metricLabel,
  moneyText,
  salesBars,
  salesSummary,
  SWEEP_SERIES,
  sweepBars,
  sweepSummary,
  type SalesMetric,
} from "./figures";
import { lastDays, PRESETS, rangeProblem, shortDay } from "./range";

/** Reports refresh on every change event (see `useChangeEvents`) and at least this often. */
const REFRESH_MS = 30_000;

function useReport<T>(name: string, range: ReportRange | null, fetch: () => Promise<T>) {
  return useQuery({
    queryKey: [...keys.reports, name, range],
    queryFn: fetch,
    enabled: range !== null,
    refetchInterval: REFRESH_MS,
    placeholderData: (previous) => previous,
  });
}

/** Reports: how the shop did over a range of days, as charts with their figures beside them. */
export function ReportsView() {
  const [preset, setPreset] = useState<number | null>(30);
  const [typed, setTyped] = useState(() => lastDays(30));
  const problem = rangeProblem(typed);
  const range = preset !== null ? lastDays(preset) : problem ? null : typed;

  const choosePreset = (days: number) => {
    setPreset(days);
    setTyped(lastDays(days));
  };
  const type = (field: "from" | "to", value: string) => {
    setPreset(null);
    setTyped((t) => ({ ...t, [field]: value }));
  };

  return (
    <section className="pane reports-pane" aria-label="Reports" data-testid="reports">
      <div className="toolbar toolbar-filters reports-toolbar">
        <div className="segmented" role="radiogroup" aria-label="Period">
          {PRESETS.map((days) => (
            <button
              key={days}
              role="radio"
              aria-checked={preset === days}
              className={`seg ${preset === days ? "seg-on" : ""}`}
              data-testid={`range-${days}`}
              onClick={() => choosePreset(days)}
            >
              {days === 365 ? "Year" : `${days} days`}
            </button>
          ))}
        </div>
        <label className="field-inline">
          From
          <input className="input" type="date" value={typed.from} max={typed.to} data-testid="range-from" onChange={(e) => type("from", e.target.value)} />
        </label>
        <label className="field-inline">
          To
          <input className="input" type="date" value={typed.to} min={typed.from} data-testid="range-to" onChange={(e) => type("to", e.target.value)} />
        </label>
        {problem && preset === null ? (
          <span className="field-error" role="alert">
            {problem}
          </span>
        ) : (
          <span className="muted small">Days in {typed.zone}</span>
        )}
      </div>
      <div className="reports-grid">
        <SalesCard range={range} />
        <HoldsCard range={range} />
        <EditsCard range={range} />
        <StockCard />
        <SweeperCard range={range} />
      </div>
    </section>
  );
}

function Card({ id, title, span, children }: { id: string; title: string; span?: "wide" | "full"; children: ReactNode }) {
  return (
    <article className={`report-card ${span ? `report-${span}` : ""}`} aria-labelledby={`${id}-title`} data-testid={`report-${id}`}>
      <h2 id={`${id}-title`} className="report-title">
        {title}
      </h2>
      {children}
    </article>
  );
}

/** Loading, failure or the figures, the same way in every card. */
function Loaded<T>({ q, what, children }: { q: { data?: T; isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown }; what: string; children: (data: T) => ReactNode }) {
  if (q.isError) return <ErrorState title={`Could not load ${what}`} message={describeError(q.error)} onRetry={() => q.refetch()} />;
  if (q.data === undefined) return q.isPending ? <Spinner label={`Loading ${what}…`} /> : null;
  return <>{children(q.data)}</>;
}

function Kpi({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div className="kpi" data-testid={testId}>
      <div className="kpi-value">{value}</div>
      <div className="kpi-label">{label}</div>
    </div>
  );
}

function Figures({ children }: { children: ReactNode }) {
  return (
    <details className="figures">
      <summary>Figures as a table</summary>
      {children}
    </details>
  );
}

function SalesCard({ range }: { range: ReportRange | null }) {
  const q = useReport("sales", range, () => call(commands.salesReport(range!)));
  const [weeks, setWeeks] = useState(false);
  const [chosen, setChosen] = useState<string>("");
  return (
    <>
      <Card id="sales" title="Sales" span="wide">
        <Loaded q={q} what="sales">
          {(r) => {
            const money = currencies(r);
            const metric: SalesMetric =
              chosen === "units" || money.length === 0
                ? { kind: "units" }
                : { kind: "revenue", currency: money.includes(chosen) ? chosen : money[0] };
            const periods = weeks ? r.weeks : r.days;
            return (
              <>
                <div className="kpis">
                  <Kpi label="revenue" value={moneyText(r.total.revenue)} testId="sales-revenue" />
                  <Kpi label="units sold" value={r.total.units} testId="sales-units" />
                  <Kpi label="orders paid" value={r.total.orders} testId="sales-orders" />
                </div>
                <div className="chart-controls">
                  <div className="segmented" role="radiogroup" aria-label="Sales per">
                    {([false, true] as const).map((w) => (
                      <button key={String(w)} role="radio" aria-checked={weeks === w} className={`seg ${weeks === w ? "seg-on" : ""}`} onClick={() => setWeeks(w)}>
                        {w ? "Per week" : "Per day"}
                      </button>
                    ))}
                  </div>
                  <label className="field-inline">
                    Show
                    <select className="input" value={metric.kind === "units" ? "units" : metric.currency} onChange={(e) => setChosen(e.target.value)} data-testid="sales-metric">
                      {money.map((c) => (
                        <option key={c} value={c}>
                          Revenue in {c}
                        </option>
                      ))}
                      <option value="units">Units sold</option>
                    </select>
                  </label>
                </div>
                <BarChart
                  data={salesBars(periods, metric, weeks)}
                  series={[{ key: "v", label: metricLabel(metric), tone: 1 }]}
                  summary={salesSummary(r, metric, weeks)}
                  format={(n) => (metric.kind === "units" ? String(n) : formatMoney(n, metric.currency).replace(/[.,]00$/, ""))}
                  testId="sales-chart"
                />
                <Figures>
                  <table className="report-table" data-testid="sales-table">
                    <caption className="sr-only">Sales per {weeks ? "week" : "day"}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{weeks ? "Week of" : "Day"}</th>
                        <th scope="col" className="num">Units</th>
                        <th scope="col" className="num">Orders</th>
                        <th scope="col" className="num">Revenue</th>
                      </tr>
                    </thead>
                    <tbody>
                      {periods.map((p) => (
                        <tr key={p.start}>
                          <td>
                            {shortDay(p.start, true)}
                            {weeks && p.days < 7 ? <span className="muted small"> ({p.days} days in range)</span> : null}
                          </td>
                          <td className="num">{p.units}</td>
                          <td className="num">{p.orders}</td>
                          <td className="num">{moneyText(p.revenue)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Figures>
              </>
            );
          }}
        </Loaded>
      </Card>
      <Card id="top" title="Top products">
        <Loaded q={q} what="top products">
          {(r) =>
            r.top_products.length === 0 ? (
              <EmptyState title="Nothing sold in this range" />
            ) : (
              <table className="report-table" data-testid="top-products">
                <caption className="sr-only">Best sellers by units</caption>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col" className="num">Units</th>
                    <th scope="col" className="num">Revenue</th>
                  </tr>
                </thead>
                <tbody>
                  {r.top_products.map((p) => (
                    <tr key={p.product_id}>
                      <td>
                        <div className="top-name">{p.name}</div>
                        <div className="hbar" aria-hidden>
                          <span className="series-fill-1" style={{ width: `${(100 * p.units) / Math.max(1, r.top_products[0].units)}%` }} />
                        </div>
                      </td>
                      <td className="num">{p.units}</td>
                      <td className="num">{moneyText(p.revenue)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Loaded>
      </Card>
    </>
  );
}

function StockCard() {
  const q = useQuery({
    queryKey: [...keys.reports, "stock"],
    queryFn: () => call(commands.stockReport(null)),
    refetchInterval: REFRESH_MS,
  });
  return (
    <Card id="stock" title="Stock now">
      <Loaded q={q} what="stock">
        {(r) => (
          <>
            <div className="kpis">
              {r.value.length === 0 ? (
                <Kpi label="stock value" value="—" />
              ) : (
                r.value.map((v) => (
                  <Kpi
                    key={v.currency}
                    label={`stock value in ${v.currency} at selling prices (${v.units_on_hand} units)`}
                    value={formatMoney(v.value_minor, v.currency)}
                    testId={`stock-value-${v.currency}`}
                  />
                ))
              )}
            </div>
            <h3 className="report-sub">
              Running low <span className="muted small">(available ≤ {r.low_stock_at}: {r.low_stock_total})</span>
            </h3>
            {r.low_stock.length === 0 ? (
              <p className="muted">Nothing is running low.</p>
            ) : (
              <div className="scroll-table" role="region" aria-label="Variants running low" tabIndex={0}>
                <table className="report-table" data-testid="low-stock">
                  <caption className="sr-only">Variants running low, fewest available first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Product</th>
                      <th scope="col">SKU</th>
                      <th scope="col" className="num">Available</th>
                      <th scope="col" className="num">On hand</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.low_stock.map((l) => (
                      <tr key={l.variant_id}>
                        <td>{l.product_name}</td>
                        <td className="mono">{l.sku}</td>
                        <td className={`num ${l.available <= 0 ? "out" : ""}`}>{l.available}</td>
                        <td className="num">{l.on_hand}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Loaded>
    </Card>
  );
}

function CountsTable({ caption, columns, rows, testId }: { caption: string; columns: string[]; rows: [string, number[]][]; testId: string }) {
  return (
    <table className="report-table" data-testid={testId}>
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Day</th>
          {columns.map((c) => (
            <th key={c} scope="col" className="num">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, values]) => (
          <tr key={label}>
            <td>{label}</td>
            {values.map((v, i) => (
              <td key={columns[i]} className="num">
                {v}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function HoldsCard({ range }: { range: ReportRange | null }) {
  const q = useReport("holds", range, () => call(commands.holdsReport(range!)));
  return (
    <Card id="holds" title="Holds: paid, expired, cancelled">
      <Loaded q={q} what="holds">
        {(r) => (
          <>
            <div className="kpis">
              {HOLD_SERIES.map((s) => (
                <Kpi key={s.key} label={s.label.toLowerCase()} value={r.total[s.key as keyof typeof r.total]} testId={`holds-${s.key}`} />
              ))}
            </div>
            <BarChart data={holdsBars(r)} series={HOLD_SERIES} summary={holdsSummary(r)} testId="holds-chart" />
            <Figures>
              <CountsTable
                caption="Orders placed per day by what became of them"
                columns={HOLD_SERIES.map((s) => s.label)}
                rows={r.days.map((d) => [shortDay(d.date, true), [d.paid, d.expired, d.cancelled, d.pending]])}
                testId="holds-table"
              />
            </Figures>
          </>
        )}
      </Loaded>
    </Card>
  );
}

function EditsCard({ range }: { range: ReportRange | null }) {
  const q = useReport("edits", range, () => call(commands.editsReport(range!)));
  return (
    <Card id="edits" title="Edits: merged by themselves vs conflicts">
      <Loaded q={q} what="edits">
        {(r) => (
          <>
            <div className="kpis">
              {EDIT_SERIES.map((s) => (
                <Kpi key={s.key} label={s.label.toLowerCase()} value={r.total[s.key as keyof typeof r.total]} testId={`edits-${s.key}`} />
              ))}
            </div>
            <BarChart data={editsBars(r)} series={EDIT_SERIES} summary={editsSummary(r)} testId="edits-chart" />
            <Figures>
              <CountsTable
                caption="Edits per day"
                columns={EDIT_SERIES.map((s) => s.label)}
                rows={r.days.map((d) => [shortDay(d.date, true), [d.clean, d.merged, d.conflicts]])}
                testId="edits-table"
              />
            </Figures>
            {r.recent_conflicts.length > 0 && (
              <>
                <h3 className="report-sub">Latest conflicts</h3>
                <ul className="conflict-list" data-testid="recent-conflicts">
                  {r.recent_conflicts.map((c) => (
                    <li key={`${c.at}-${c.product_id}`}>
                      <span className="muted">{dateTime(c.at)}</span> <strong>{c.actor}</strong> on {c.product_name || "a deleted product"}:{" "}
                      <span className="mono">{c.paths.join(", ")}</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </Loaded>
    </Card>
  );
}

function SweeperCard({ range }: { range: ReportRange | null }) {
  const q = useReport("sweeper", range, () => call(commands.sweeperReport(range!)));
  return (
    <Card id="sweeper" title="Sweeper runs" span="full">
      <Loaded q={q} what="sweeper runs">
        {(r) => (
          <>
            <div className="kpis">
              <Kpi label="runs" value={r.total.runs} testId="sweeper-runs" />
              <Kpi label="with a failing job" value={r.total.failed} testId="sweeper-failed" />
            </div>
            <BarChart data={sweepBars(r)} series={SWEEP_SERIES} summary={sweepSummary(r)} format={(n) => `${n} ms`} testId="sweeper-chart" />
            <Figures>
              <table className="report-table" data-testid="sweeper-table">
                <caption className="sr-only">The sweeper's latest runs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Result</th>
                    <th scope="col" className="num">Took</th>
                    <th scope="col" className="num">Orders expired</th>
                    <th scope="col">By</th>
                  </tr>
                </thead>
                <tbody>
                  {r.recent.map((s) => (
                    <tr key={s.id}>
                      <td>{dateTime(s.started_at)}</td>
                      <td>{s.status === "ok" ? "ok" : s.status === "failed" ? `failed${s.error ? `: ${s.error}` : ""}` : "did not finish"}</td>
                      <td className="num">{s.millis === null ? "—" : `${s.millis} ms`}</td>
                      <td className="num">{s.orders_expired}</td>
                      <td>{s.actor}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Figures>
          </>
        )}
      </Loaded>
    </Card>
  );
}
