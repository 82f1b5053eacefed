// Build the diagram viewer into webapp/static/build/ (not committed): `npm run build`,
// run by `./dev setup`.
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: { diagram: 'frontend/diagram.js' },
  outdir: 'webapp/static/build',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'warning',
});
