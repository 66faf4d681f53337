import { useEffect, useRef, useState } from "react";
import { AxisBottom, AxisLeft } from "@visx/axis";
import { Group } from "@visx/group";
import { scaleBand, scaleLinear } from "@visx/scale";
import { Bar } from "@visx/shape";

/** One series of a (stacked) bar chart: its label and its colour class (`series-N`). */
export type Series = { key: string; label: string; tone: number };

export type BarDatum = { label: string; values: Record<string, number> };

const HEIGHT = 150;
const MARGIN = { top: 8, right: 8, bottom: 24, left: 48 };

function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(560);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(([entry]) => setWidth(Math.max(240, Math.floor(entry.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

/**
 * Vertical bars, stacked when there are several series, drawn in SVG with theme colours (CSS
 * variables, so light and dark both work). The picture is one `img` for assistive technology,
 * named by `summary`; the figures themselves are in the table each report shows beside it.
 */
export function BarChart({
  data,
  series,
  summary,
  format = (n) => String(n),
  testId,
}: {
  data: BarDatum[];
  series: Series[];
  summary: string;
  format?: (n: number) => string;
  testId?: string;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = scaleBand<string>({ domain: data.map((d) => d.label), range: [0, innerW], padding: 0.25 });
  const totals = data.map((d) => series.reduce((sum, s) => sum + (d.values[s.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const y = scaleLinear<number>({ domain: [0, max], range: [innerH, 0], nice: true });
  // At most about eight labels under the bars, whatever the number of days.
  const every = Math.max(1, Math.ceil(data.length / 8));
  const shown = data.filter((_, i) => i % every === 0).map((d) => d.label);

  return (
    <div className="chart" ref={ref} data-testid={testId}>
      <svg width={width} height={HEIGHT} role="img" aria-label={summary}>
        <Group left={MARGIN.left} top={MARGIN.top}>
          {y.ticks(4).map((t) => (
            <line key={t} className="chart-grid" x1={0} x2={innerW} y1={y(t)} y2={y(t)} />
          ))}
          {data.map((d) => {
            let base = 0;
            return series.map((s) => {
              const v = d.values[s.key] ?? 0;
              if (v <= 0) return null;
              const top = y(base + v);
              const bar = (
                <Bar
                  key={`${d.label}-${s.key}`}
                  className={`series-${s.tone}`}
                  x={x(d.label) ?? 0}
                  y={top}
                  width={x.bandwidth()}
                  height={Math.max(1, y(base) - top)}
                  data-label={d.label}
                  data-series={s.key}
                  data-value={v}
                />
              );
              base += v;
              return bar;
            });
          })}
          <AxisLeft
            scale={y}
            numTicks={4}
            tickFormat={(v) => format(Number(v))}
            stroke="currentColor"
            tickStroke="currentColor"
            tickLabelProps={{ fill: "currentColor", fontSize: 10, textAnchor: "end", dx: -4, dy: 3 }}
          />
          <AxisBottom
            top={innerH}
            scale={x}
            tickValues={shown}
            stroke="currentColor"
            tickStroke="currentColor"
            tickLabelProps={{ fill: "currentColor", fontSize: 10, textAnchor: "middle" }}
          />
        </Group>
      </svg>
      {series.length > 1 && (
        <ul className="legend" aria-hidden>
          {series.map((s) => (
            <li key={s.key}>
              <span className={`swatch swatch-${s.tone}`} />
              {s.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
