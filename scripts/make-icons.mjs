#!/usr/bin/env node
// Generates the Teams app icons for Safeguard Desk:
//   appPackage/color.png   192×192: calm dark teal square, white shield outline with a white tick inside.
//   appPackage/outline.png  32×32: the same white shield + tick on a transparent background
//                                  (pure #FFFFFF pixels, only alpha varies).
// Geometry is evaluated per pixel with N×N supersampling for anti-aliased edges.
// PNGs are written by hand with node:zlib (signature, IHDR, IDAT, IEND, CRC32): no dependencies.
// Usage: node scripts/make-icons.mjs [outDir]   (default: appPackage/)
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from './crc32.mjs';

export const ACCENT = [0x1f, 0x5c, 0x63]; // #1F5C63

// ---------- PNG writer ----------
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** rgba: Uint8Array of width*height*4 */
export function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter method
  ihdr[12] = 0; // no interlace
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None
    Buffer.from(rgba.buffer, rgba.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------- geometry (unit square, y down) ----------
/**
 * Heraldic shield: top edge dips slightly toward the centre, straight sides down to `mid`,
 * then convex sides meeting in a point at `bottom`.
 */
function inShield(x, y, s) {
  const dx = Math.abs(x - s.cx);
  if (dx > s.w) return false;
  const r = dx / s.w;
  const topY = s.top + s.dip * (1 - r * r);
  if (y < topY || y > s.bottom) return false;
  if (y <= s.mid) return true;
  const t = (y - s.mid) / (s.bottom - s.mid); // 0 at mid, 1 at tip
  return dx <= s.w * (1 - t * t);
}
function distToSegment(px, py, ax, ay, bx, by) {
  const vx = bx - ax, vy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(px - (ax + t * vx), py - (ay + t * vy));
}

/** Returns coverage in [0,1] of the white mark at a unit-square point. */
function markAt(x, y, p) {
  const outer = { cx: 0.5, top: p.top, mid: p.top + (p.bottom - p.top) * 0.45, bottom: p.bottom, w: p.w, dip: p.dip };
  const s = p.stroke;
  const inner = {
    cx: 0.5,
    top: outer.top + s,
    mid: outer.mid,
    bottom: outer.bottom - s * 1.9, // the tip is sharp, so inset it more to keep an even-looking stroke
    w: outer.w - s,
    dip: outer.dip,
  };
  const ring = inShield(x, y, outer) && !inShield(x, y, inner);
  if (ring) return true;
  // tick, centred in the shield body
  const h = p.bottom - p.top;
  const a = [0.5 - p.w * 0.42, p.top + h * 0.47];
  const b = [0.5 - p.w * 0.1, p.top + h * 0.64];
  const c = [0.5 + p.w * 0.45, p.top + h * 0.3];
  const r = p.tick / 2;
  return distToSegment(x, y, a[0], a[1], b[0], b[1]) <= r || distToSegment(x, y, b[0], b[1], c[0], c[1]) <= r;
}

function coverage(size, params, ss) {
  const cov = new Float64Array(size * size);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hit = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) / size;
          const y = (py + (sy + 0.5) / ss) / size;
          if (markAt(x, y, params)) hit++;
        }
      }
      cov[py * size + px] = hit / (ss * ss);
    }
  }
  return cov;
}

export function renderColor(size = 192) {
  // Mark sits in the central area, leaving generous teal padding (Teams crops colour icons to a rounded square).
  const cov = coverage(size, { top: 0.22, bottom: 0.8, w: 0.25, dip: 0.035, stroke: 0.045, tick: 0.065 }, 8);
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    const a = cov[i];
    rgba[i * 4] = Math.round(ACCENT[0] * (1 - a) + 255 * a);
    rgba[i * 4 + 1] = Math.round(ACCENT[1] * (1 - a) + 255 * a);
    rgba[i * 4 + 2] = Math.round(ACCENT[2] * (1 - a) + 255 * a);
    rgba[i * 4 + 3] = 255;
  }
  return encodePng(size, size, rgba);
}

export function renderOutline(size = 32) {
  // Fills more of the 32px canvas and uses ~2px strokes so it stays legible in the Teams app bar.
  const cov = coverage(size, { top: 0.08, bottom: 0.93, w: 0.37, dip: 0.04, stroke: 0.085, tick: 0.1 }, 16);
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    rgba[i * 4] = 255;
    rgba[i * 4 + 1] = 255;
    rgba[i * 4 + 2] = 255;
    rgba[i * 4 + 3] = Math.round(cov[i] * 255);
  }
  return encodePng(size, size, rgba);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = resolve(process.argv[2] ?? join(root, 'appPackage'));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'color.png'), renderColor());
  writeFileSync(join(outDir, 'outline.png'), renderOutline());
  console.log(`wrote ${join(outDir, 'color.png')} and ${join(outDir, 'outline.png')}`);
}
