/**
 * Arithmetic on tensor dimensions that may be symbolic ('N') or unknown (null).
 *
 *   broadcast   numpy rules, right-aligned; a null dim is a wildcard (it may be 1 or the other
 *               size), so [N,1] ⊕ [null,5] = [N,5]; two different symbols give null.
 *   products    a product of dims is kept as k·∏symbols, so that Reshape(-1)/Flatten can divide
 *               N·32·7·7 by 1568 and get N back; any null factor makes the product unknown.
 *   windows     out = ⌊(in + pb + pe − d·(k−1) − 1) / s⌋ + 1 (⌈⌉ with ceil_mode); a symbolic `in`
 *               survives only when the window keeps the size (k=1, s=1, no padding).
 */
import type { Dim } from './ir.js';

export function isStatic(shape: readonly Dim[] | undefined): shape is number[] {
  return !!shape && shape.every((d) => typeof d === 'number');
}

/** Broadcasts shapes with numpy rules; undefined when any rank is unknown. */
export function broadcastShapes(shapes: readonly (readonly Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const all = shapes as readonly (readonly Dim[])[];
  const rank = Math.max(0, ...all.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = all.map((s) => s[s.length - rank + i] ?? 1).filter((d) => d !== 1);
    const num = dims.find((d): d is number => typeof d === 'number');
    const syms = new Set(dims.filter((d): d is string => typeof d === 'string'));
    if (num !== undefined) out.push(num);
    else if (syms.size === 1) out.push([...syms][0]!);
    else if (dims.length === 0) out.push(1);
    else out.push(null);
  }
  return out;
}

/** A product of dims as k·∏syms; `unknown` when a factor is null. */
export interface DimProduct {
  k: number;
  syms: string[];
  unknown: boolean;
}

export function dimProduct(dims: readonly Dim[]): DimProduct {
  const p: DimProduct = { k: 1, syms: [], unknown: false };
  for (const d of dims) {
    if (d === null) p.unknown = true;
    else if (typeof d === 'number') p.k *= d;
    else p.syms.push(d);
  }
  return p;
}

/** The product as a single Dim: a number, one bare symbol, or null. */
export function productDim(p: DimProduct): Dim {
  if (p.unknown) return null;
  if (p.syms.length === 0) return p.k;
  if (p.syms.length === 1 && p.k === 1) return p.syms[0]!;
  return null;
}

/** a / b as a Dim when it is exact: symbols cancel, the numeric parts divide evenly. */
export function divideProducts(a: DimProduct, b: DimProduct): Dim {
  if (a.unknown || b.unknown || b.k === 0) return null;
  const syms = [...a.syms];
  for (const s of b.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return null;
    syms.splice(i, 1);
  }
  const k = a.k / b.k;
  if (!Number.isInteger(k)) return null;
  return productDim({ k, syms, unknown: false });
}

/** Normalises a possibly negative axis against `rank`. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Output size of a sliding window (Conv, pools) with explicit pads. */
export function windowOut(inp: Dim, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): Dim {
  if (typeof inp !== 'number') return k === 1 && s === 1 && pb + pe === 0 ? inp : null;
  const span = inp + pb + pe - d * (k - 1) - 1;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  // A window may not start in the trailing padding (ONNX/ORT rule for ceil_mode).
  if ((out - 1) * s >= inp + pb) out--;
  return out;
}

/** Output size under auto_pad SAME_UPPER/SAME_LOWER: ⌈in / s⌉. */
export function sameOut(inp: Dim, s: number): Dim {
  if (typeof inp !== 'number') return s === 1 ? inp : null;
  return Math.ceil(inp / s);
}

/** Adds a number to a dim (null when symbolic or unknown, unless n is 0). */
export function addDim(d: Dim, n: number): Dim {
  if (n === 0) return d;
  return typeof d === 'number' ? d + n : null;
}

export function formatShape(shape: readonly Dim[] | undefined): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}
