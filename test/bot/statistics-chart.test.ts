/** The statistics chart: a real PNG, small enough for a card at its largest, drawn with the packaged font. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_CHART_BYTES, renderBarChart } from '../../src/bot/statistics-chart.js';

/** Width and height from the PNG header. */
const size = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

describe('the bar chart', () => {
  it('stays under the card limit with every bar long and every label wide', async () => {
    const bars = [
      'Islamist',
      'Extreme right-wing',
      'Left-wing, anarchist or single-issue',
      'Conflicted',
      'No ideology or counter-terrorism risk',
      'School massacre',
      'Incel',
      'Other or unclear',
    ].map((label, i) => ({ label, value: 98_765 - i * 9_137, text: (98_765 - i * 9_137).toLocaleString('en-GB'), withheld: false }));
    const png = await renderBarChart({ title: 'Referrals by type of concern, 2026/27', bars });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeLessThanOrEqual(MAX_CHART_BYTES);
    expect(size(png).width).toBeGreaterThanOrEqual(440);
    mkdirSync('test-artifacts/statistics', { recursive: true });
    writeFileSync('test-artifacts/statistics/chart-largest.png', png);
  });

  it('draws a year with nothing in it', async () => {
    const png = await renderBarChart({ title: 'Referrals by type of concern, 2000/01', bars: [{ label: 'Islamist', value: 0, text: '0', withheld: false }] });
    expect(size(png).height).toBeGreaterThan(40);
  });
});
