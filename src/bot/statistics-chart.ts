/**
 * The statistics card's chart: a bar chart drawn on the server (a Vega spec
 * rendered to SVG, then to PNG by resvg) and embedded in the card as a
 * `data:` URL, so it needs no image host and shows in every client.
 *
 * Vega is loaded on first use (about 0.25 s), not at start. Text is drawn
 * with DejaVu Sans from the dejavu-fonts-ttf package, so the picture is the
 * same on every machine whether or not it has fonts installed; only when that
 * file is missing are the system's fonts tried.
 *
 * The chart is given figures already suppressed: a withheld count is a bar
 * of nothing labelled `<5` or `[c]`, never its value.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface Bar {
  readonly label: string;
  /** Length of the bar: the published count, 0 for a withheld one. */
  readonly value: number;
  /** What is written at its end: the count as published. */
  readonly text: string;
  /** Withheld: the label is drawn in grey. */
  readonly withheld: boolean;
}

export interface BarChart {
  readonly title: string;
  readonly bars: readonly Bar[];
}

/** Teams keeps a card message under 100 KB with images apart; a small PNG keeps the card quick to load. */
export const MAX_CHART_BYTES = 30_000;

const FONT = 'DejaVu Sans';
const WIDTH = 420;
const ROW = 34;

const packageFile = createRequire(import.meta.url);

function fontFiles(): string[] {
  try {
    return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => packageFile.resolve(`dejavu-fonts-ttf/ttf/${f}`)).filter((p) => existsSync(p));
  } catch {
    return [];
  }
}

let libraries: Promise<{ vega: typeof import('vega'); Resvg: typeof import('@resvg/resvg-js').Resvg; fonts: string[] }> | undefined;

function load() {
  libraries ??= Promise.all([import('vega'), import('@resvg/resvg-js')]).then(([vega, resvg]) => ({ vega, Resvg: resvg.Resvg, fonts: fontFiles() }));
  return libraries;
}

/** The Vega spec: each bar under its label (long category names need the width), its count at its end. */
function spec(chart: BarChart): object {
  const max = Math.max(1, ...chart.bars.map((b) => b.value));
  const values = chart.bars.map((b, i) => ({ ...b, i }));
  const text = { font: { value: FONT }, fontSize: { value: 12 } };
  return {
    width: WIDTH,
    height: values.length * ROW,
    padding: 10,
    autosize: 'pad',
    background: 'white',
    title: { text: chart.title, anchor: 'start', font: FONT, fontSize: 14, color: '#0b0c0c', offset: 8, limit: WIDTH },
    data: [{ name: 'bars', values }],
    scales: [
      { name: 'row', type: 'band', domain: { data: 'bars', field: 'i' }, range: 'height' },
      { name: 'count', type: 'linear', domain: [0, max], nice: true, range: [0, WIDTH - 48] },
    ],
    marks: [
      {
        type: 'text',
        from: { data: 'bars' },
        encode: { enter: { ...text, x: { value: 0 }, y: { scale: 'row', field: 'i', offset: 2 }, baseline: { value: 'top' }, text: { field: 'label' }, fill: { value: '#0b0c0c' }, limit: { value: WIDTH } } },
      },
      {
        type: 'rect',
        from: { data: 'bars' },
        encode: { enter: { x: { scale: 'count', value: 0 }, x2: { scale: 'count', field: 'value' }, y: { scale: 'row', field: 'i', offset: 17 }, height: { value: 12 }, fill: { value: '#1d70b8' } } },
      },
      {
        type: 'text',
        from: { data: 'bars' },
        encode: {
          enter: {
            ...text,
            x: { scale: 'count', field: 'value', offset: 5 },
            y: { scale: 'row', field: 'i', offset: 23 },
            baseline: { value: 'middle' },
            text: { field: 'text' },
            fontWeight: { value: 'bold' },
            fill: [{ test: 'datum.withheld', value: '#505a5f' }, { value: '#0b0c0c' }],
          },
        },
      },
    ],
  };
}

/** Draws the chart as a PNG; at a smaller scale if the sharper one would be too large for a card. */
export async function renderBarChart(chart: BarChart): Promise<Buffer> {
  const { vega, Resvg, fonts } = await load();
  const svg = await new vega.View(vega.parse(spec(chart)), { renderer: 'none' }).toSVG();
  const font = fonts.length > 0 ? { fontFiles: fonts, loadSystemFonts: false, defaultFontFamily: FONT } : { loadSystemFonts: true, defaultFontFamily: FONT };
  let png: Buffer = Buffer.alloc(0);
  for (const zoom of [1.5, 1.25, 1]) {
    png = new Resvg(svg, { fitTo: { mode: 'zoom', value: zoom }, font }).render().asPng();
    if (png.length <= MAX_CHART_BYTES) break;
  }
  return png;
}
