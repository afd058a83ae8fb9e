import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';

/** Where the operator's console is served, on the API's port. */
export const CONSOLE_PATH = '/console';

/**
 * The console's built files (apps/console compiled by `npm run build`): next to this module in
 * dist/, or in dist/ when the API runs from its TypeScript sources (tests).
 */
export function consoleDirectory(): string | null {
  const candidates = [
    fileURLToPath(new URL('../../../console/', import.meta.url)),
    fileURLToPath(new URL('../../../../dist/apps/console/', import.meta.url)),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'main.js'))) ?? null;
}

/**
 * Nothing but the platform itself: scripts, styles, data and connections from this origin only;
 * the page is never framed and sends no referrer (a token is never in a URL sent anywhere).
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/** Serves the console's static files at /console, or a page saying how to build them. */
export function serveConsole(app: INestApplication, directory = consoleDirectory()): void {
  const express = app as NestExpressApplication;
  if (!directory) {
    express.use(CONSOLE_PATH, (_req: Request, res: Response) => {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build`, then reload.\n');
    });
    return;
  }
  express.useStaticAssets(directory, {
    prefix: CONSOLE_PATH,
    index: 'index.html',
    fallthrough: true,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });
}
