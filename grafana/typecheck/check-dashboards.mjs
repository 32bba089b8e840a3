// Type-checks every grafana/dashboards/*.json against Grafana's published
// dashboard schema type (`Dashboard` from @grafana/schema) with tsc.
//
// A JSON import widens "query" to string, so each dashboard is written into
// a generated .ts module as an object literal checked with
// `satisfies Dashboard`: literal types (variable types, enums) are checked
// exactly and unknown properties are errors (excess property checks). A
// deliberately broken copy of the first dashboard, checked in the same tsc
// run, must fail, proving the check can fail.
//
//   node check-dashboards.mjs --out DIR --node-modules DIR [--dashboards DIR]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith('--')) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []));
const out = path.resolve(args.out ?? 'grafana-typecheck');
const nodeModules = path.resolve(args['node-modules'] ?? path.join(here, '../../tests/node_modules'));
const dashboardsDir = path.resolve(args.dashboards ?? path.join(here, '../dashboards'));
const tsc = path.join(nodeModules, '.bin', 'tsc');
const schema = path.join(nodeModules, '@grafana/schema/dist/types/index.d.ts');

function writeProject(dir, modules) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, dashboard] of modules) {
    fs.writeFileSync(path.join(dir, `${name}.ts`),
      `// Generated from grafana/dashboards/${name}.json by check-dashboards.mjs.\n` +
      `import type { Dashboard } from '@grafana/schema';\n\n` +
      `export const dashboard = ${JSON.stringify(dashboard, null, 2)} satisfies Dashboard;\n`);
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    extends: path.join(here, 'tsconfig.base.json'),
    compilerOptions: { baseUrl: '.', paths: { '@grafana/schema': [schema] } },
    include: ['*.ts'],
  }, null, 2));
}

function runTsc(dir) {
  try {
    execFileSync(tsc, ['-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, output: '' };
  } catch (e) {
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const files = fs.readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) {
  console.error(`no dashboards in ${dashboardsDir}`);
  process.exit(1);
}
const modules = files.map((f) => [path.basename(f, '.json'),
  JSON.parse(fs.readFileSync(path.join(dashboardsDir, f), 'utf8'))]);

// Canary: a misspelt variable type and an unknown panel property must fail.
const broken = structuredClone(modules[0][1]);
broken.templating.list[0].type = 'datasorce';
broken.panels[0].titel = 'typo';

// One tsc run: the dashboards must be clean, the canary must not be.
const dir = path.join(out, 'dashboards');
writeProject(dir, [...modules, ['canary-broken', broken]]);
const result = runTsc(dir);
const errors = result.output.split('\n').filter((line) => line.includes('error TS'));
const real = errors.filter((line) => !line.includes('canary-broken.ts'));
const canary = errors.filter((line) => line.includes('canary-broken.ts'));
if (real.length > 0) {
  console.error(`dashboards do not type-check against @grafana/schema Dashboard:\n${real.join('\n')}`);
  process.exit(1);
}
if (result.ok || !canary.some((l) => l.includes('datasorce')) || !canary.some((l) => l.includes('titel'))) {
  console.error(`the broken canary dashboard type-checked: the check cannot fail\n${result.output}`);
  process.exit(1);
}
console.log(`OK: ${files.join(', ')} satisfy @grafana/schema Dashboard; the broken canary is rejected`);
