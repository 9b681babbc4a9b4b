/**
 * Makes data/fashion-mnist-mini, the small real subset of Fashion-MNIST bundled with lithe so
 * that a fresh clone works without a download. Source: Debian's dataset-fashion-mnist package.
 *
 *   node --import tsx scripts/make-fashion-mnist-mini.ts [--train-per-class N] [--test-per-class N] [--seed S]
 *
 * Each split is stratified (equal counts per class, chosen with a seeded PRNG) and keeps the
 * original relative order of the images it takes. The gzip output is deterministic (no mtime),
 * so re-running with the same arguments reproduces the committed files byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stratifiedIndices } from '../src/data/batcher.js';
import { FASHION_MNIST_CLASSES, SYSTEM_FASHION_MNIST_DIR, bundledFashionMnistDir, openIdxDataset, sampleBytes, type Split } from '../src/data/dataset.js';
import { encodeIdx } from '../src/data/idx.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

const perClass: Record<Split, number> = { train: arg('train-per-class', 600), test: arg('test-per-class', 200) };
const seed = arg('seed', 20240501);
const out = bundledFashionMnistDir();
mkdirSync(out, { recursive: true });

function writeAtomic(file: string, bytes: Uint8Array): void {
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
}

const prefix: Record<Split, string> = { train: 'train', test: 't10k' };
const lines: string[] = [];
let total = 0;
for (const split of ['train', 'test'] as const) {
  const ds = await openIdxDataset(SYSTEM_FASHION_MNIST_DIR, { split, classes: FASHION_MNIST_CLASSES });
  // Different seeds per split, so the train and test picks are independent draws.
  const idx = stratifiedIndices(ds.labels, perClass[split], seed + (split === 'train' ? 0 : 1), 10);
  const per = sampleBytes(ds);
  const images = new Uint8Array(idx.length * per);
  const labels = new Uint8Array(idx.length);
  idx.forEach((s, k) => {
    images.set(ds.images.subarray(s * per, (s + 1) * per), k * per);
    labels[k] = ds.labels[s]!;
  });
  const [, h, w] = ds.sampleShape as [number, number, number];
  const files: [string, Uint8Array][] = [
    [`${prefix[split]}-images-idx3-ubyte.gz`, gzipSync(encodeIdx('u8', [idx.length, h, w], images), { level: 9 })],
    [`${prefix[split]}-labels-idx1-ubyte.gz`, gzipSync(encodeIdx('u8', [idx.length], labels), { level: 9 })],
  ];
  for (const [name, bytes] of files) {
    writeAtomic(join(out, name), bytes);
    total += bytes.length;
    lines.push(`| ${name} | ${idx.length} | ${(bytes.length / 1e3).toFixed(1)} kB |`);
  }
  console.log(`${split}: ${idx.length} images (${perClass[split]} per class) from ${ds.size}`);
}
writeAtomic(join(out, 'classes.txt'), new TextEncoder().encode(FASHION_MNIST_CLASSES.join('\n') + '\n'));

let version = 'unknown';
try {
  version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dataset-fashion-mnist'], { encoding: 'utf8' });
} catch {
  // not a Debian system; the README then says so
}

const readme = `# fashion-mnist-mini

A small, class-balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Zalando's 28×28 grayscale article images, 10 classes), bundled so that lithe works out of the box
with real images. \`openDataset('fashion-mnist')\` uses the full set from Debian's
\`dataset-fashion-mnist\` package when it is installed, and this subset otherwise.

| file | images | size |
|---|---|---|
${lines.join('\n')}

Total ${(total / 1e6).toFixed(2)} MB. Train: ${perClass.train} images per class, test: ${perClass.test} per class,
drawn from the official train (60,000) and test (10,000) splits respectively, so the subset's test
images are never in any training set. Within a split the images keep their original order.
\`classes.txt\` names the labels 0-9.

Made with

    node --import tsx scripts/make-fashion-mnist-mini.ts --train-per-class ${perClass.train} --test-per-class ${perClass.test} --seed ${seed}

from \`${SYSTEM_FASHION_MNIST_DIR}\`, Debian package \`dataset-fashion-mnist\` version \`${version}\`.
Selection: per class, a seeded Fisher–Yates shuffle (mulberry32, \`src/data/rng.ts\`) of that class's
indices, first N taken; seed ${seed} for train, ${seed + 1} for test. Files are gzip level 9 without a
timestamp, so re-running reproduces them byte for byte.

## License

Fashion-MNIST is Copyright (c) 2017 Zalando SE, released under the MIT License:

> Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
> associated documentation files (the "Software"), to deal in the Software without restriction,
> including without limitation the rights to use, copy, modify, merge, publish, distribute,
> sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
> furnished to do so, subject to the following conditions:
>
> The above copyright notice and this permission notice shall be included in all copies or
> substantial portions of the Software.
>
> THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
> NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
> NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
> OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
> CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`;
writeAtomic(join(out, 'README.md'), new TextEncoder().encode(readme));
console.log(`wrote ${out}: ${(total / 1e6).toFixed(2)} MB in IDX files`);
