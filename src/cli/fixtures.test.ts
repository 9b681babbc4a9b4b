/** The centroid classifier fixture of testing.ts, checked against a plain-JS reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleAt } from '../data/dataset.js';
import { argmax, centroidFixture, centroidScores } from './testing.js';

test('the centroid classifier: plain-JS reference is far above chance on the bundled test split', async () => {
  const { centroids, test: ds } = await centroidFixture();
  let correct = 0;
  for (let i = 0; i < ds.size; i++) {
    const { pixels, label } = sampleAt(ds, i);
    if (argmax(centroidScores(centroids, pixels)) === label) correct++;
  }
  // Nearest centroid on Fashion-MNIST is known to land near 68%; chance is 10%.
  assert.ok(correct / ds.size > 0.6 && correct / ds.size < 0.8, `accuracy ${correct / ds.size}`);
});
