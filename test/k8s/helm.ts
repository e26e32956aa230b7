// Runs the helm binary that scripts/tools.sh unpacks into .tools/bin, and parses what it renders.

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART = path.join(ROOT, 'charts/raft3d');
const HELM = path.join(ROOT, '.tools/bin/helm');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: any;
}

let installed = false;
export function ensureHelm(): string {
  if (!installed) {
    if (!existsSync(HELM)) execFileSync('bash', [path.join(ROOT, 'scripts/tools.sh')], { stdio: 'pipe' });
    installed = true;
  }
  return HELM;
}

const helmEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
  ...process.env,
  ...env,
  HELM_CACHE_HOME: path.join(ROOT, '.tools/helm-cache'),
  HELM_CONFIG_HOME: path.join(ROOT, '.tools/helm-config'),
  HELM_DATA_HOME: path.join(ROOT, '.tools/helm-data'),
});

export function helm(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(ensureHelm(), args, { encoding: 'utf8', cwd: ROOT, env: helmEnv({}) });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Like helm(), without blocking the event loop: for runs against a stand-in API server in this process. */
export function helmAsync(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(ensureHelm(), args, { cwd: ROOT, env: helmEnv(env) }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `helm template <release> charts/raft3d -n <ns> <args>`, parsed; throws with helm's message on failure. */
export function render(args: readonly string[] = [], release = 'shop', namespace = 'printing'): K8sObject[] {
  const result = helm(['template', release, CHART, '--namespace', namespace, ...args]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return yaml
    .loadAll(result.stdout)
    .filter((doc): doc is K8sObject => doc !== null && typeof doc === 'object');
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found)
    throw new Error(
      `no ${kind}${name ? `/${name}` : ''} rendered (have: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`,
    );
  return found;
}
