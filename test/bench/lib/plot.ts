/**
 * Plots without a browser: a Vega-Lite spec is compiled to Vega, rendered headless by a
 * vega View to SVG, and rasterised to PNG by sharp (librsvg inside libvips).
 */
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import sharp from 'sharp';

// Without a canvas, vega estimates text at 0.8 em per character, far wider than DejaVu Sans
// renders, which leaves blank margins; an average advance closer to the font's is used instead.
// (vega re-exports vega-scenegraph's textMetrics, which its typings leave out.)
type TextItem = { fontSize?: number; fontWeight?: string | number };
const textMetrics = (vega as unknown as { textMetrics: { width: unknown } }).textMetrics;
textMetrics.width = (item: unknown, text: unknown) => {
  const it = item as TextItem;
  const str = text == null ? '' : String(text).trim();
  const bold = it.fontWeight === 'bold' || Number(it.fontWeight) >= 600;
  return Math.ceil(str.length * (it.fontSize ?? 11) * (bold ? 0.68 : 0.6));
};

const CONFIG = {
  font: 'DejaVu Sans',
  background: 'white',
  padding: 12,
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e5e5e5' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const, subtitleFontSize: 11, subtitleColor: '#555' },
  view: { stroke: 'transparent' },
};

export async function renderPng(spec: TopLevelSpec, file: string): Promise<void> {
  const full = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const vg = compile(full).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  // density 144 = twice the SVG's CSS pixels: sharp on screens, small files.
  await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png({ compressionLevel: 9, palette: true }).toFile(file);
}
