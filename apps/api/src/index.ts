export { ApiModule } from './api.module.js';
export { configureHttpApp, listenHttp, HttpListenError } from './http-app.js';
