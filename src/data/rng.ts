/**
 * A small seeded PRNG for everything that must be reproducible: shuffling, subset selection,
 * weight initialisation, augmentation. Math.random cannot be seeded, so lithe never uses it.
 *
 * Generator: mulberry32 (Tommy Ettinger). 32-bit state, period 2^32, passes PractRand to a few
 * GB — plenty for shuffling datasets and drawing initial weights, and cheap in plain JS.
 *   t = state += 0x6D2B79F5
 *   t = (t ^ t>>>15) · (t | 1);  t ^= t + (t ^ t>>>7) · (t | 61);  out = t ^ t>>>14
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Any number is a valid seed; fold non-integers and large values into 32 bits.
    this.state = Math.trunc(seed) >>> 0;
  }

  /** Next raw 32-bit unsigned integer. */
  uint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** n samples uniform in [−bound, bound), as float32 (weight initialisation). */
  uniform(n: number, bound: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (2 * this.float() - 1) * bound;
    return out;
  }

  /** Uniform integer in [0, n), n ≤ 2^32. Rejection sampling, so there is no modulo bias. */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`Rng.int: n must be in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return x % n;
  }

  /** Standard normal sample (Box–Muller; the second value is discarded to keep the state simple). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]: log(0) is -Infinity
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }
}

/** A permutation of 0..n-1 drawn with `seed`. */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return new Rng(seed).shuffle(p);
}
