import type { Server } from 'node:http';
import { HttpStatus, ValidationPipe, type INestApplication } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { Metrics } from '@amr/runtime';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { jsonBody } from './common/json-body.js';
import { serveConsole } from './console/serve-console.js';
import { applyHttpTimeouts } from './limits/http-timeouts.js';

/** Body limits, global prefix, validation, the OpenAPI document and the operator's console, shared by every app that serves the API. */
export function configureHttpApp(app: INestApplication): void {
  // Before Nest's own body parsers (registered at init), which then find the body read.
  const metrics = app.get(Metrics, { strict: false });
  app.use(
    jsonBody((res, refusal) => {
      metrics.httpErrors.inc({ status: String(refusal.status) });
      res.status(refusal.status).json({ statusCode: refusal.status, error: HttpStatus[refusal.status], message: refusal.message });
    }),
  );
  app.setGlobalPrefix('api/v1', { exclude: ['health', 'metrics'] });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('AMR 2.0 platform API')
      .setDescription('For CIC integrations and administration. Every route but /health needs `Authorization: Bearer <token>`.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  serveConsole(app);
}

/** The HTTP listener could not start: the one line an operator needs. */
export class HttpListenError extends Error {}

/**
 * Listens on HTTP_HOST:HTTP_PORT, with the request timeouts; a port in use stops start-up with one
 * clear line (CONTRACT §5).
 */
export async function listenHttp(app: INestApplication, config: AmrConfig): Promise<Server> {
  const { host, port } = config.http;
  applyHttpTimeouts(app.getHttpServer() as Server, config.http);
  try {
    await app.listen(port, host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE'
      ? `port ${port} is already in use: stop the other process or set HTTP_PORT to a free port`
      : `${code ?? String(err)}: check HTTP_PORT`;
    throw new HttpListenError(`Cannot start the HTTP listener on ${host}:${port}: ${why}`);
  }
  return app.getHttpServer() as Server;
}
