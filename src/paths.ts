/**
 * Where the project's files are (cards/, migrations/, the demo directory),
 * whether this code runs from src/ (tsx, tests) or compiled into dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return dir;
    if (dirname(dir) === dir) throw new Error(`Safeguard Desk: cannot find the project folder above ${start}`);
  }
}

export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
export const cardsFolder = join(projectRoot, 'cards');
export const migrationsFolder = join(projectRoot, 'migrations');
export const demoDirectoryFile = join(projectRoot, 'src', 'demo', 'directory.json');
