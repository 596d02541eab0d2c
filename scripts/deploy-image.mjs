#!/usr/bin/env node
// Builds the container image in Azure Container Registry (`az acr build`: no
// local Docker needed) and points the web app at it (docs/deploy.md). Run by the
// deploy stage of m365agents.yml, or by hand:
//
//   node scripts/deploy-image.mjs --registry <acr name> --app <web app resource id> [--tag <tag>] [--dry-run]
//
// Defaults come from the environment the toolkit loads from env/.env.<environment>
// (written by arm/deploy from infra/main.bicep's outputs):
// AZURE_CONTAINER_REGISTRY_NAME, AZURE_CONTAINER_REGISTRY_LOGIN_SERVER,
// AZURE_APP_SERVICE_RESOURCE_ID. The tag is the git commit (plus a time stamp
// when the work tree has changes), so every image says what it was built from.
// It ends by printing `::set-teamsfx-env IMAGE_TAG=<tag>`: the toolkit keeps it,
// and the next provision (infra/main.parameters.json) keeps the same image.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMAGE = 'safeguard-desk';

function parseArgs(argv) {
  const o = {
    registry: process.env.AZURE_CONTAINER_REGISTRY_NAME,
    loginServer: process.env.AZURE_CONTAINER_REGISTRY_LOGIN_SERVER,
    app: process.env.AZURE_APP_SERVICE_RESOURCE_ID,
    tag: undefined,
    dryRun: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--registry') o.registry = value();
    else if (a === '--login-server') o.loginServer = value();
    else if (a === '--app') o.app = value();
    else if (a === '--tag') o.tag = value();
    else if (a === '--dry-run') o.dryRun = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function git(...args) {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** What goes into the image (the Dockerfile's inputs, as .dockerignore lets them through). */
const IMAGE_INPUTS = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'cards', 'migrations'];

/** The commit, with a UTC time stamp when the image's inputs differ from it (or when this is not a git checkout). */
function defaultTag() {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const commit = git('rev-parse', '--short=12', 'HEAD');
  if (!commit) return `build-${stamp}`;
  return git('status', '--porcelain', '--', ...IMAGE_INPUTS) ? `${commit}-dirty-${stamp}` : commit;
}

function run(cmd, args, dryRun) {
  process.stderr.write(`$ ${cmd} ${args.map((a) => (/[\s|"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  if (dryRun) return;
  // `az` is a .cmd script on Windows, run through cmd.exe: quote what cmd would read as syntax ("DOCKER|…").
  const windows = process.platform === 'win32';
  const argv = windows ? args.map((a) => (/[\s|&<>^"]/.test(a) ? `"${a.replaceAll('"', '""')}"` : a)) : args;
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], shell: windows });
  if (r.error) throw new Error(`${cmd} could not be run (${r.error.message}); install the Azure CLI and sign in with az login`);
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]} ${args[1] ?? ''} failed (exit ${r.status})`);
}

try {
  const o = parseArgs(process.argv.slice(2));
  const missing = [
    ['--registry', 'AZURE_CONTAINER_REGISTRY_NAME', o.registry],
    ['--app', 'AZURE_APP_SERVICE_RESOURCE_ID', o.app],
  ].filter(([, , v]) => !v);
  if (missing.length > 0) {
    throw new Error(`${missing.map(([flag, env]) => `${flag} (or ${env})`).join(' and ')} not given: provision first, or pass them`);
  }
  const tag = o.tag ?? defaultTag();
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new Error(`"${tag}" is not a valid image tag`);
  const loginServer = o.loginServer ?? `${o.registry}.azurecr.io`;
  const image = `${IMAGE}:${tag}`;

  // The build context is filtered by .dockerignore; the build runs in the registry.
  run('az', ['acr', 'build', '--registry', o.registry, '--image', image, '--file', 'Dockerfile', '.'], o.dryRun);
  // Restarts the instances on the new image; the health check on /healthz keeps an instance
  // out of the load balancer until it answers.
  run('az', ['webapp', 'config', 'set', '--ids', o.app, '--linux-fx-version', `DOCKER|${loginServer}/${image}`, '--output', 'none'], o.dryRun);

  if (!o.dryRun) process.stdout.write(`::set-teamsfx-env IMAGE_TAG=${tag}\n`);
} catch (err) {
  process.stderr.write(`deploy-image: ${err.message}\n`);
  process.exit(1);
}
