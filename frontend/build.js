// Build the diagram viewer (instance and task pages) and the process modeler (admins) into
// webapp/static/build/ (not committed): `npm run build`, run by `./dev setup`.
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: { diagram: 'frontend/diagram.js', modeler: 'frontend/modeler.js' },
  outdir: 'webapp/static/build',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'warning',
  // the modeler's palette icons (bpmn-font): copied next to the bundle
  loader: { '.eot': 'file', '.svg': 'file', '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  assetNames: 'fonts/[name]-[hash]',
});
