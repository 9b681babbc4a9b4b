// The CLI on the TypeScript sources (no build step): `node --import tsx scripts/lithe-dev.ts <command> …`.
// bin/lithe.js runs the compiled dist/ instead, which `npm run build` refreshes.
import { main } from '../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
