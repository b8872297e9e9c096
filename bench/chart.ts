/**
 * An SVG chart of the side-by-side measurements: records/s (left) and server CPU seconds per million
 * records (right) against concurrency, one line per server. Plain SVG, no dependencies.
 */

/** One point of a series. */
export interface ChartPoint {
  readonly concurrency: number;
  readonly recordsPerSecond: number;
  readonly cpuSecondsPerMillion: number;
}

/** One server's measurements. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly ChartPoint[];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
/** Pixels between the legend's lines. */
const LEGEND_LINE = 18;
const PANEL = { width: 360, height: 240, left: 70, top: 40, bottom: 40 };

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value || 1));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(Math.round(value * 10) / 10);
}

function panel(
  series: readonly ChartSeries[],
  x0: number,
  title: string,
  value: (point: ChartPoint) => number,
): string {
  const concurrencies = [...new Set(series.flatMap((s) => s.points.map((p) => p.concurrency)))].sort((a, b) => a - b);
  const top = niceMax(Math.max(...series.flatMap((s) => s.points.map(value))));
  const plotWidth = PANEL.width - PANEL.left - 20;
  const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
  const x = (c: number) =>
    x0 +
    PANEL.left +
    (concurrencies.length === 1 ? plotWidth / 2 : (concurrencies.indexOf(c) / (concurrencies.length - 1)) * plotWidth);
  const y = (v: number) => PANEL.top + plotHeight - (v / top) * plotHeight;
  const parts: string[] = [
    `<text x="${x0 + PANEL.width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${x0 + PANEL.left}" y1="${y(0)}" x2="${x0 + PANEL.left + plotWidth}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${x0 + PANEL.left}" y1="${y(0)}" x2="${x0 + PANEL.left}" y2="${PANEL.top}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    parts.push(
      `<line x1="${x0 + PANEL.left}" y1="${y(v)}" x2="${x0 + PANEL.left + plotWidth}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${x0 + PANEL.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${formatTick(v)}</text>`,
    );
  }
  for (const c of concurrencies) {
    parts.push(`<text x="${x(c)}" y="${y(0) + 16}" text-anchor="middle" font-size="11">${c}</text>`);
  }
  parts.push(
    `<text x="${x0 + PANEL.left + plotWidth / 2}" y="${PANEL.height - 4}" text-anchor="middle" font-size="11">concurrent bodies</text>`,
  );
  series.forEach((s, index) => {
    const color = COLORS[index % COLORS.length];
    const path = s.points.map((p) => `${x(p.concurrency).toFixed(1)},${y(value(p)).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${x(p.concurrency).toFixed(1)}" cy="${y(value(p)).toFixed(1)}" r="3" fill="${color}"/>`);
    }
  });
  return parts.join("\n");
}

/** The chart as an SVG document. */
export function concurrencyChart(series: readonly ChartSeries[], caption: string): string {
  // Wide enough for the longest name in the legend, at about 6.5 pixels a character of 12-pixel sans-serif.
  const longestName = Math.max(...series.map((s) => s.name.length));
  const width = Math.max(2 * PANEL.width, 38 + Math.ceil(longestName * 6.5) + 12);
  const legendY = PANEL.height + 16;
  // One series a line: the names are too long to share one.
  const legend = series
    .map(
      (s, index) =>
        `<rect x="20" y="${legendY + index * LEGEND_LINE - 9}" width="12" height="12" fill="${COLORS[index % COLORS.length]}"/>` +
        `<text x="38" y="${legendY + index * LEGEND_LINE + 1}" font-size="12">${escapeXml(s.name)}</text>`,
    )
    .join("\n");
  const captionY = legendY + series.length * LEGEND_LINE + 6;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${captionY + 12}" font-family="sans-serif" role="img">`,
    `<title>${escapeXml(`records/s and server CPU per million records against concurrency: ${caption}`)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(series, 0, "records/s (higher is better)", (p) => p.recordsPerSecond),
    panel(series, PANEL.width, "server CPU s per million records (lower is better)", (p) => p.cpuSecondsPerMillion),
    legend,
    `<text x="20" y="${captionY}" font-size="11" fill="#555">${escapeXml(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
