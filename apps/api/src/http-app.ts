import type { Server } from 'node:http';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { serveConsole } from './console/serve-console.js';

/** Global prefix, validation, the OpenAPI document and the operator's console, shared by every app that serves the API. */
export function configureHttpApp(app: INestApplication): void {
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

/** Listens on HTTP_HOST:HTTP_PORT; a port in use stops start-up with one clear line (CONTRACT §5). */
export async function listenHttp(app: INestApplication, config: AmrConfig): Promise<Server> {
  const { host, port } = config.http;
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
