/**
 * Peak resident set size of this process. On Linux this is VmHWM from /proc/self/status, the
 * process's own high-water mark; getrusage's maxRSS (the fallback elsewhere) inherits the parent's
 * peak across exec on Linux, so a small `lithe bench` started by a large parent would report the
 * parent's figure. No onnxruntime import here, so measuring processes can load it first.
 */
import { readFileSync } from 'node:fs';

export function peakRss(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}
